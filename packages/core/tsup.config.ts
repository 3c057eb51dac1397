import { preset } from '../../tsup.preset';

// The child's entry point is its own small file: it loads dist/index.js at run time rather than
// bundling a second copy of core (see src/child.ts).
export default preset({ entry: { index: 'src/index.ts', child: 'src/child.ts' } });
