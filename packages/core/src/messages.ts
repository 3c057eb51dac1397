/** Texts that explain a mistake and its fix, kept in one place. */

export const GUARD_MESSAGE =
  'A process was started while this child process was still importing the module of its target (its bootstrapping phase).\n' +
  'The child imports that module to find the target, as Python\'s spawn re-imports __main__, so code at its top level that ' +
  'starts processes runs again in every child and would start processes without end. Put the code that starts processes ' +
  'behind a main-module guard, the equivalent of Python\'s `if __name__ == "__main__":`:\n' +
  '    ESM:      if (isMainModule(import.meta)) { main(); }\n' +
  '              // or: if (import.meta.url === pathToFileURL(process.argv[1]).href) { main(); }\n' +
  '    CommonJS: if (require.main === module) { main(); }';

export const CLOSED_MESSAGE = 'process object is closed';
