import { packageTestConfig } from '../../vitest.package.mts';

const config = packageTestConfig();
// So the test that a collected buffer unmaps its memory can force a collection.
config.test!.execArgv = ['--expose-gc'];
export default config;
