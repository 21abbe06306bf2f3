<?php
// The client matrix's scenarios as a PHP application writes them with
// PDO MySQL (Debian's php-cli and php-mysql).
//
//     php matrix.php HOST PORT USER PASSWORD DATABASE BASE EMULATE
//
// prints the transcript of what the application saw, a line a step; a
// step Courier refuses (1235) prints a line starting REFUSED. EMULATE is
// PDO::ATTR_EMULATE_PREPARES (1, PDO's default for MySQL: values written
// into the text; 0: server-side prepared statements). Run by
// clients/php_test.go.
[, $host, $port, $user, $pass, $db, $base, $emulate] = $argv;
$base = (int)$base;
$open = function () use ($host, $port, $user, $pass, $db, $emulate) {
    return new PDO("mysql:host=$host;port=$port;dbname=$db", $user, $pass,
        [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_EMULATE_PREPARES => (bool)$emulate]);
};
$pdo = $open();
$lines = [];
$say = function (string $what, $value = null) use (&$lines) {
    $lines[] = $value === null ? $what : $what . ': ' . json_encode($value);
};
$rows = function (PDO $c, string $sql, array $args = []) {
    $st = $c->prepare($sql);
    $st->execute($args);
    return $st->fetchAll(PDO::FETCH_NUM);
};
$exec = function (PDO $c, string $sql, array $args = []) {
    $st = $c->prepare($sql);
    $st->execute($args);
    return $st->rowCount();
};
$when = '2026-12-01 12:00:00.125';
$order = 'INSERT INTO orders (order_id, user_id, merchant_id, rider_id, city_id, status, total_cents, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';

// Create, read, update and delete by order_id.
for ($k = $base; $k < $base + 6; $k++) {
    $exec($pdo, $order, [$k, $base + $k % 3, 7, null, 1, 'placed', 1000 + $k % 100, $when]);
}
$say('read', $rows($pdo, 'SELECT order_id, user_id, rider_id, status, total_cents, created_at FROM orders WHERE order_id = ?', [$base + 1]));
$say('updated', $exec($pdo, 'UPDATE orders SET status = ?, rider_id = ? WHERE order_id = ?', ['accepted', 42, $base + 1]));
$say('read again', $rows($pdo, 'SELECT status, rider_id FROM orders WHERE order_id = ?', [$base + 1]));
$say('deleted', $exec($pdo, 'DELETE FROM orders WHERE order_id = ?', [$base + 5]));
$say('count', $rows($pdo, 'SELECT COUNT(*) FROM orders WHERE order_id = ?', [$base + 5]));
// By user_id: the global index.
$say('by user', $rows($pdo, 'SELECT order_id, status FROM orders WHERE user_id = ? ORDER BY order_id', [$base + 1]));

// A transaction of several statements by key.
$k = $base + 10;
$pdo->beginTransaction();
$exec($pdo, $order, [$k, $base + 9, 7, null, 1, 'placed', 0, $when]);
$item = 'INSERT INTO order_items (order_id, line_no, item, qty, price_cents) VALUES (?, ?, ?, ?, ?)';
$exec($pdo, $item, [$k, 1, 'noodles', 2, 850]);
$exec($pdo, $item, [$k, 2, 'tea', 1, 300]);
$total = $rows($pdo, 'SELECT SUM(qty * price_cents) FROM order_items WHERE order_id = ?', [$k])[0][0];
$exec($pdo, 'UPDATE orders SET total_cents = ? WHERE order_id = ?', [$total, $k]);
$pdo->commit();
$say('with its items', $rows($pdo, 'SELECT o.order_id, o.total_cents, i.line_no, i.item FROM orders o JOIN order_items i ON i.order_id = o.order_id WHERE o.order_id = ? ORDER BY i.line_no', [$k]));

// A multi-row insert across shards (in autocommit), and an aggregate.
$values = [];
$args = [];
for ($k = $base + 20; $k < $base + 30; $k++) {
    $values[] = '(?, ?, ?, ?, ?, ?, ?, ?)';
    array_push($args, $k, $base + $k % 4, 8, null, 2, 'delivered', 500 + $k % 7, $when);
}
$say('inserted', $exec($pdo, 'INSERT INTO orders (order_id, user_id, merchant_id, rider_id, city_id, status, total_cents, created_at) VALUES ' . implode(', ', $values), $args));
$say('by status', $rows($pdo, 'SELECT status, COUNT(*), SUM(total_cents), MIN(order_id), MAX(created_at) FROM orders WHERE order_id BETWEEN ? AND ? GROUP BY status ORDER BY status', [$base, $base + 999]));

// An error, then the connection reused.
try {
    $exec($pdo, 'UPDATE orders SET no_such_column = 1 WHERE order_id = ?', [$base]);
    $say('no error for an unknown column');
} catch (PDOException $e) {
    $say('unknown column: error', $e->errorInfo[1]);
}
$say('after the error', $rows($pdo, 'SELECT total_cents FROM orders WHERE order_id = ?', [$base]));

// Several connections at once (PHP has no pool: one a request), their
// statements interleaved.
$conns = [];
for ($w = 0; $w < 8; $w++) {
    $conns[] = $open();
}
$failures = [];
for ($i = 0; $i < 5; $i++) {
    foreach ($conns as $w => $c) {
        $k = $base + 100 + $w * 10 + $i;
        $exec($c, $order, [$k, $base + $w, 9, null, 3, 'placed', $i, $when]);
    }
    foreach ($conns as $w => $c) {
        $exec($c, 'UPDATE orders SET total_cents = total_cents + 1 WHERE order_id = ?', [$base + 100 + $w * 10 + $i]);
    }
    foreach ($conns as $w => $c) {
        $k = $base + 100 + $w * 10 + $i;
        $got = (int)$rows($c, 'SELECT total_cents FROM orders WHERE order_id = ?', [$k])[0][0];
        if ($got !== $i + 1) {
            $failures[] = "order $k: $got";
        }
    }
}
$say('connections\' failures', $failures);
$say('their orders', $rows($pdo, 'SELECT COUNT(*), SUM(total_cents) FROM orders WHERE order_id BETWEEN ? AND ?', [$base + 100, $base + 199]));
echo implode("\n", $lines), "\n";
