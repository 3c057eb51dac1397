import { packageTestConfig } from '../../vitest.package.mts';

export default packageTestConfig(['./test/helpers/setup.ts']);
