-- The sample delivery schema: a food-delivery platform's core tables.
-- scripts/demo.sh runs it through Courier, configured with
-- testdata/courier.sharded.yaml: `orders` (with `order_items`) is sharded by
-- order_id, `cities` is small reference data copied to every shard, and
-- `users`, `merchants` and `riders`, the dimensions orders are looked up by,
-- are unsharded. The rows come from `courierctl demo load`.
CREATE DATABASE IF NOT EXISTS delivery DEFAULT CHARACTER SET utf8mb4;
USE delivery;

CREATE TABLE IF NOT EXISTS cities (
  city_id   INT          NOT NULL PRIMARY KEY,
  name      VARCHAR(64)  NOT NULL,
  country   CHAR(2)      NOT NULL,
  timezone  VARCHAR(40)  NOT NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS users (
  user_id    BIGINT       NOT NULL PRIMARY KEY,
  name       VARCHAR(100) NOT NULL,
  email      VARCHAR(200) NOT NULL UNIQUE,
  city_id    INT          NOT NULL,
  created_at DATETIME     NOT NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS merchants (
  merchant_id BIGINT       NOT NULL PRIMARY KEY,
  name        VARCHAR(100) NOT NULL,
  city_id     INT          NOT NULL,
  rating      DECIMAL(2,1) NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS riders (
  rider_id BIGINT       NOT NULL PRIMARY KEY,
  name     VARCHAR(100) NOT NULL,
  city_id  INT          NOT NULL,
  vehicle  ENUM('bike','scooter','car') NOT NULL
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS orders (
  order_id    BIGINT      NOT NULL PRIMARY KEY,
  user_id     BIGINT      NOT NULL,
  merchant_id BIGINT      NOT NULL,
  rider_id    BIGINT      NULL,
  city_id     INT         NOT NULL,
  status      ENUM('placed','accepted','picked_up','delivered','cancelled') NOT NULL,
  total_cents INT         NOT NULL,
  created_at  DATETIME(3) NOT NULL,
  KEY idx_user (user_id),
  KEY idx_rider (rider_id),
  KEY idx_merchant (merchant_id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS order_items (
  order_id    BIGINT       NOT NULL,
  line_no     INT          NOT NULL,
  item        VARCHAR(100) NOT NULL,
  qty         INT          NOT NULL,
  price_cents INT          NOT NULL,
  PRIMARY KEY (order_id, line_no)
) ENGINE=InnoDB;
