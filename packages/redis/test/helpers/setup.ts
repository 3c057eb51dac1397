export * from '../../../core/test/helpers/setup';
