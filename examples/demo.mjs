// `npm run demo`: a few real child processes say who they are, then the parent reports how
// each one ended. Takes about a second.
import { setTimeout as sleep } from 'node:timers/promises';
import { Process, currentProcess, parentProcess, isMainModule } from 'multiproc';

/** Prints who is running: name, pid, and the parent's name and pid. */
function introduce(what) {
  const me = currentProcess();
  const parent = parentProcess();
  const who = `${me.name}${me.daemon ? ' (daemon)' : ''}`.padEnd(20);
  const from = `${parent.name} (pid ${parent.pid})`.padEnd(30);
  console.log(`  ${who} pid ${String(me.pid).padEnd(8)} parent ${from} ${what}`);
}

export async function worker(seconds) {
  introduce(`works for ${seconds} s`);
  await sleep(seconds * 1000);
}

export async function manager() {
  introduce('starts a child of its own');
  const child = new Process({ target: worker, args: [0.3] });
  child.start();
  await child.join();
}

export function quitter(code) {
  introduce(`calls process.exit(${code})`);
  process.exit(code);
}

export async function sleeper() {
  introduce('sleeps until it is terminated');
  await sleep(60_000);
}

if (isMainModule(import.meta)) {
  const me = currentProcess();
  console.log(`${me.name} (pid ${me.pid}) starts four processes:\n`);
  const jobs = [
    new Process({ target: worker, args: [0.5] }),
    new Process({ target: manager }),
    new Process({ target: quitter, args: [3] }),
    new Process({ target: sleeper, daemon: true }),
  ];
  for (const p of jobs) p.start();

  await jobs[0].join();
  await jobs[1].join();
  await jobs[2].join();
  jobs[3].terminate();
  await jobs[3].join();

  console.log('\nhow they ended:\n');
  for (const p of jobs) console.log(`  ${String(p).padEnd(48)} exitCode ${p.exitCode}`);
}
