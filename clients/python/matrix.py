"""The client matrix's scenarios as a SQLAlchemy ORM application writes
them, over PyMySQL (Debian's python3-sqlalchemy and python3-pymysql).

    python3 matrix.py HOST PORT USER PASSWORD DATABASE BASE

prints the transcript of what the application saw, a line a step; a step
Courier refuses (1235) prints a line starting REFUSED, and the scenario
then writes it as an application would. Run by clients/python_test.go.
"""
import sys
import threading
from datetime import datetime

from sqlalchemy import (BigInteger, Column, ForeignKey, Integer, String, create_engine, func, insert, select,
                        text)
from sqlalchemy.dialects.mysql import DATETIME
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, declarative_base, relationship

Base = declarative_base()


class Order(Base):
    __tablename__ = "orders"
    order_id = Column(BigInteger, primary_key=True, autoincrement=False)
    user_id = Column(BigInteger, nullable=False)
    merchant_id = Column(BigInteger, nullable=False)
    rider_id = Column(BigInteger)
    city_id = Column(Integer, nullable=False)
    status = Column(String(20), nullable=False)
    total_cents = Column(Integer, nullable=False)
    created_at = Column(DATETIME(fsp=3), nullable=False)
    items = relationship("OrderItem", order_by="OrderItem.line_no")

    def __str__(self):
        return "order %d user %d rider %s %s %d %s" % (self.order_id, self.user_id, self.rider_id, self.status,
                                                       self.total_cents, self.created_at.isoformat())


class OrderItem(Base):
    __tablename__ = "order_items"
    order_id = Column(BigInteger, ForeignKey("orders.order_id"), primary_key=True, autoincrement=False)
    line_no = Column(Integer, primary_key=True, autoincrement=False)
    item = Column(String(100), nullable=False)
    qty = Column(Integer, nullable=False)
    price_cents = Column(Integer, nullable=False)


WHEN = datetime(2026, 12, 1, 12, 0, 0, 125000)
lines = []


def say(fmt, *args):
    lines.append(fmt % args)


def errno(e):
    return e.orig.args[0] if isinstance(e, DBAPIError) and e.orig is not None and e.orig.args else None


def refused(step, e):
    if errno(e) != 1235:
        raise e
    print("REFUSED %s: %s" % (step, e.orig.args[1]))


def order(k, user, status="placed", total=0):
    return Order(order_id=k, user_id=user, merchant_id=7, city_id=1, status=status, total_cents=total, created_at=WHEN)


def main():
    host, port, user, password, db, base = sys.argv[1:7]
    base = int(base)
    engine = create_engine("mysql+pymysql://%s:%s@%s:%s/%s" % (user, password, host, port, db),
                           pool_size=4, max_overflow=0, future=True)

    # Create, read, update and delete by order_id: an order a transaction.
    for k in range(base, base + 6):
        with Session(engine) as s, s.begin():
            s.add(order(k, base + k % 3, total=1000 + k % 100))
    with Session(engine) as s:
        o = s.get(Order, base + 1)
        say("get: %s", o)
        o.status, o.rider_id = "accepted", 42
        s.commit()
        say("after the update: %s", s.get(Order, base + 1))
        s.delete(s.get(Order, base + 5))
        s.commit()
        n = s.scalar(select(func.count()).select_from(Order).where(Order.order_id == base + 5))
        say("deleted, count %d", n)
        # By user_id: the global index.
        mine = s.scalars(select(Order).where(Order.user_id == base + 1).order_by(Order.order_id)).all()
        say("by user: %s", [str(o) for o in mine])

    # A transaction of several statements by key: an order with its items.
    k = base + 10
    with Session(engine) as s, s.begin():
        o = order(k, base + 9)
        o.items = [OrderItem(line_no=1, item="noodles", qty=2, price_cents=850),
                   OrderItem(line_no=2, item="tea", qty=1, price_cents=300)]
        s.add(o)
        s.flush()
        o.total_cents = s.scalar(select(func.sum(OrderItem.qty * OrderItem.price_cents)).where(OrderItem.order_id == k))
    with Session(engine) as s:
        o = s.get(Order, k)
        say("with its items: %s %s", o, [(i.line_no, i.item, i.qty) for i in o.items])

    # A multi-row insert across shards: in the session's transaction,
    # refused under multi_shard_transactions: reject; then in autocommit.
    rows = [dict(order_id=k, user_id=base + k % 4, merchant_id=8, city_id=2, status="delivered",
                 total_cents=500 + k % 7, created_at=WHEN) for k in range(base + 20, base + 30)]
    try:
        with Session(engine) as s, s.begin():
            s.execute(insert(Order), rows)
    except DBAPIError as e:
        refused("insert of 10 orders in one transaction", e)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(insert(Order).prefix_with("IGNORE"), rows)

    # An aggregate across shards, in the session's transaction.
    with Session(engine) as s:
        groups = s.execute(select(Order.status, func.count(), func.sum(Order.total_cents), func.min(Order.order_id))
                           .where(Order.order_id.between(base, base + 999)).group_by(Order.status)
                           .order_by(Order.status)).all()
        say("by status: %s", [tuple(int(x) if not isinstance(x, str) else x for x in g) for g in groups])

        # An error, then the session used again.
        try:
            s.execute(text("UPDATE orders SET no_such_column = 1 WHERE order_id = :k"), {"k": base})
            say("no error for an unknown column")
        except DBAPIError as e:
            say("unknown column: error %s", errno(e))
            s.rollback()
        say("after the error: %s", s.get(Order, base))

    # The pool under concurrent workers, each on its own orders.
    failures = []

    def worker(w):
        try:
            for i in range(5):
                k = base + 100 + w * 10 + i
                with Session(engine) as s, s.begin():
                    s.add(order(k, base + w, total=i))
                with Session(engine) as s, s.begin():
                    s.get(Order, k).total_cents += 1
                with Session(engine) as s:
                    got = s.get(Order, k).total_cents
                    if got != i + 1:
                        failures.append("order %d: %d" % (k, got))
        except Exception as e:  # the transcript says what failed
            failures.append(repr(e))

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    say("workers' failures: %s", failures)
    with Session(engine) as s:
        n, total = s.execute(select(func.count(), func.sum(Order.total_cents))
                             .where(Order.order_id.between(base + 100, base + 199))).one()
        say("the workers' orders: %d %d", n, total)
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
