import { packageTestConfig } from '../../vitest.package.mts';

export default packageTestConfig();
