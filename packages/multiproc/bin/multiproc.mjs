#!/usr/bin/env node
// The `multiproc` command: one entry per subcommand, each importing its implementation only when run.
const COMMANDS = {
  trace: {
    usage: 'trace <file.json> [--width N]',
    summary: 'print a trace file (MULTIPROC_TRACE, startTrace()) as a text timeline',
    load: () => import('./trace.mjs'),
  },
  worker: {
    usage: 'worker --redis URL --module FILE',
    summary: 'serve a RemotePool from this machine (@multiproc/redis; worker --help)',
    load: () => import('./worker.mjs'),
  },
};

const HELP = `Usage: multiproc <command> [options]

Commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage.padEnd(34)} ${c.summary}`)
  .join('\n')}

  multiproc <command> --help         help for one command
`;

async function main(argv) {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`multiproc: unknown command '${name}'; the commands are: ${Object.keys(COMMANDS).join(', ')} (multiproc --help)\n`);
    return 2;
  }
  const { run } = await command.load();
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`multiproc: ${err?.message ?? err}\n`);
    process.exitCode = 1;
  },
);
