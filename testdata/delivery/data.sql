-- Deterministic sample data for the delivery schema (MariaDB's SEQUENCE
-- engine and seeded RAND(n), so every load gives the same rows): 8 cities,
-- 1,000 users, 100 merchants, 200 riders, 5,000 orders whose users and
-- riders are skewed (a few very active ones), and 1-4 items per order.
USE delivery;

INSERT IGNORE INTO cities VALUES
  (1, 'Lisboa', 'PT', 'Europe/Lisbon'), (2, 'Porto', 'PT', 'Europe/Lisbon'),
  (3, 'Madrid', 'ES', 'Europe/Madrid'), (4, 'Barcelona', 'ES', 'Europe/Madrid'),
  (5, 'São Paulo', 'BR', 'America/Sao_Paulo'), (6, 'Jakarta', 'ID', 'Asia/Jakarta'),
  (7, 'Berlin', 'DE', 'Europe/Berlin'), (8, 'Kraków', 'PL', 'Europe/Warsaw');

INSERT IGNORE INTO users
SELECT seq, CONCAT('user ', seq), CONCAT('user', seq, '@example.com'), 1 + seq % 8,
       '2025-01-01' + INTERVAL seq * 37 MINUTE
FROM seq_1_to_1000;

INSERT IGNORE INTO merchants
SELECT seq, CONCAT('merchant ', seq), 1 + seq % 8,
       IF(seq % 10 = 0, NULL, ROUND(3 + 2 * RAND(seq), 1))
FROM seq_1_to_100;

INSERT IGNORE INTO riders
SELECT seq, CONCAT('rider ', seq), 1 + seq % 8, ELT(1 + seq % 3, 'bike', 'scooter', 'car')
FROM seq_1_to_200;

INSERT IGNORE INTO orders
SELECT seq,
       FLOOR(1 + 999 * POW(RAND(seq), 3)),
       FLOOR(1 + 99 * RAND(seq * 7)),
       IF(seq % 9 = 0, NULL, FLOOR(1 + 199 * POW(RAND(seq * 13), 2))),
       1 + seq % 8,
       ELT(1 + FLOOR(5 * RAND(seq * 3)), 'placed', 'accepted', 'picked_up', 'delivered', 'cancelled'),
       500 + FLOOR(9500 * RAND(seq * 11)),
       '2026-11-01' + INTERVAL seq * 97 SECOND
FROM seq_1_to_5000;

INSERT IGNORE INTO order_items
SELECT o.seq, l.seq, ELT(1 + (o.seq + l.seq) % 6, 'pizza', 'burger', 'salad', 'sushi', 'noodles', 'soda'),
       1 + (o.seq * l.seq) % 3, 150 + FLOOR(2000 * RAND(o.seq * 5 + l.seq))
FROM seq_1_to_5000 o JOIN seq_1_to_4 l ON l.seq <= 1 + o.seq % 4;
