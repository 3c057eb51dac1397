// The seed's Pipe example (Python docs, "Exchanging objects between processes"): the child sends
// [42, None, 'hello'] through a Pipe and the parent prints it.
//
//   from multiprocessing import Process, Pipe
//   def f(conn):
//       conn.send([42, None, 'hello'])
//       conn.close()
//   if __name__ == '__main__':
//       parent_conn, child_conn = Pipe()
//       p = Process(target=f, args=(child_conn,))
//       p.start()
//       print(parent_conn.recv())   # prints "[42, None, 'hello']"
//       p.join()
import { Pipe, Process, isMainModule, type Connection } from 'multiproc';

export async function f(conn: Connection): Promise<void> {
  await conn.send([42, null, 'hello']);
  conn.close();
}

if (isMainModule(import.meta)) {
  const [parentConn, childConn] = Pipe();
  const p = new Process({ target: f, args: [childConn] });
  p.start();
  console.log(await parentConn.recv()); // prints "[ 42, null, 'hello' ]"
  await p.join();
}
