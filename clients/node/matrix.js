// The client matrix's scenarios as a Node.js application writes them with
// mysql2 (its promise API, execute: server-side prepared statements).
//
//     node matrix.js HOST PORT USER PASSWORD DATABASE BASE
//
// prints the transcript of what the application saw, a line a step; a
// step Courier refuses (1235) prints a line starting REFUSED. Run by
// clients/scripts_test.go.
const mysql = require('mysql2/promise');

const [host, port, user, password, database, baseArg] = process.argv.slice(2);
const base = Number(baseArg);
const lines = [];
const say = (what, value) => lines.push(value === undefined ? what : `${what}: ${JSON.stringify(value)}`);
const when = '2026-12-01 12:00:00.125';
const order = 'INSERT INTO orders (order_id, user_id, merchant_id, rider_id, city_id, status, total_cents, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';

async function main() {
  const pool = mysql.createPool({ host, port: Number(port), user, password, database, connectionLimit: 4, dateStrings: true });
  const rows = async (c, sql, args = []) => (await c.execute(sql, args))[0];

  // Create, read, update and delete by order_id.
  for (let k = base; k < base + 6; k++) {
    await pool.execute(order, [k, base + k % 3, 7, null, 1, 'placed', 1000 + k % 100, when]);
  }
  say('read', await rows(pool, 'SELECT order_id, user_id, rider_id, status, total_cents, created_at FROM orders WHERE order_id = ?', [base + 1]));
  say('updated', (await pool.execute('UPDATE orders SET status = ?, rider_id = ? WHERE order_id = ?', ['accepted', 42, base + 1]))[0].affectedRows);
  say('read again', await rows(pool, 'SELECT status, rider_id FROM orders WHERE order_id = ?', [base + 1]));
  say('deleted', (await pool.execute('DELETE FROM orders WHERE order_id = ?', [base + 5]))[0].affectedRows);
  say('count', await rows(pool, 'SELECT COUNT(*) AS n FROM orders WHERE order_id = ?', [base + 5]));
  // By user_id: the global index.
  say('by user', await rows(pool, 'SELECT order_id, status FROM orders WHERE user_id = ? ORDER BY order_id', [base + 1]));

  // A transaction of several statements by key, with execute.
  const k = base + 10;
  const c = await pool.getConnection();
  await c.beginTransaction();
  await c.execute(order, [k, base + 9, 7, null, 1, 'placed', 0, when]);
  const item = 'INSERT INTO order_items (order_id, line_no, item, qty, price_cents) VALUES (?, ?, ?, ?, ?)';
  await c.execute(item, [k, 1, 'noodles', 2, 850]);
  await c.execute(item, [k, 2, 'tea', 1, 300]);
  const [[{ total }]] = await c.execute('SELECT SUM(qty * price_cents) AS total FROM order_items WHERE order_id = ?', [k]);
  await c.execute('UPDATE orders SET total_cents = ? WHERE order_id = ?', [Number(total), k]);
  await c.commit();
  say('with its items', await rows(c, 'SELECT o.order_id, o.total_cents, i.line_no, i.item FROM orders o JOIN order_items i ON i.order_id = o.order_id WHERE o.order_id = ? ORDER BY i.line_no', [k]));

  // A multi-row insert across shards (in autocommit), and an aggregate.
  const values = [];
  const args = [];
  for (let k = base + 20; k < base + 30; k++) {
    values.push('(?, ?, ?, ?, ?, ?, ?, ?)');
    args.push(k, base + k % 4, 8, null, 2, 'delivered', 500 + k % 7, when);
  }
  say('inserted', (await c.execute(`INSERT INTO orders (order_id, user_id, merchant_id, rider_id, city_id, status, total_cents, created_at) VALUES ${values.join(', ')}`, args))[0].affectedRows);
  say('by status', await rows(c, 'SELECT status, COUNT(*) AS n, SUM(total_cents) AS total, MIN(order_id) AS first, MAX(created_at) AS last FROM orders WHERE order_id BETWEEN ? AND ? GROUP BY status ORDER BY status', [base, base + 999]));

  // An error, then the connection reused.
  try {
    await c.execute('UPDATE orders SET no_such_column = 1 WHERE order_id = ?', [base]);
    say('no error for an unknown column');
  } catch (e) {
    if (e.errno === 1235) {
      console.log(`REFUSED unknown column: ${e.message}`);
    }
    say('unknown column: error', e.errno);
  }
  say('after the error', await rows(c, 'SELECT total_cents FROM orders WHERE order_id = ?', [base]));
  c.release();

  // The pool under concurrent workers, each on its own orders.
  const failures = [];
  await Promise.all([...Array(8).keys()].map(async (w) => {
    for (let i = 0; i < 5; i++) {
      const k = base + 100 + w * 10 + i;
      await pool.execute(order, [k, base + w, 9, null, 3, 'placed', i, when]);
      await pool.execute('UPDATE orders SET total_cents = total_cents + 1 WHERE order_id = ?', [k]);
      const [[{ total_cents: got }]] = await pool.execute('SELECT total_cents FROM orders WHERE order_id = ?', [k]);
      if (got !== i + 1) failures.push(`order ${k}: ${got}`);
    }
  }));
  say("workers' failures", failures);
  say('their orders', await rows(pool, 'SELECT COUNT(*) AS n, SUM(total_cents) AS total FROM orders WHERE order_id BETWEEN ? AND ?', [base + 100, base + 199]));
  await pool.end();
  console.log(lines.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
