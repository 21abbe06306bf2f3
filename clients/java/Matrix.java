// The client matrix's scenarios as a Java application writes them with
// MariaDB Connector/J (Debian's libmariadb-java) and its pool.
//
//     java -cp /usr/share/java/mariadb-java-client.jar Matrix.java HOST PORT USER PASSWORD DATABASE BASE SERVERPREP
//
// prints the transcript of what the application saw, a line a step; a step
// Courier refuses (1235) prints a line starting REFUSED. SERVERPREP is
// useServerPrepStmts (false: Connector/J's default, values written into the
// text; true: server-side prepared statements). Run by
// clients/scripts_test.go.
import java.sql.*;
import java.util.*;
import java.util.concurrent.*;
import org.mariadb.jdbc.MariaDbPoolDataSource;

public class Matrix {
    static final List<String> lines = Collections.synchronizedList(new ArrayList<>());
    static final String WHEN = "2026-12-01 12:00:00.125";
    static final String ORDER = "INSERT INTO orders (order_id, user_id, merchant_id, rider_id, city_id, status, total_cents, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

    static void say(String what, Object value) {
        lines.add(value == null ? what : what + ": " + value);
    }

    static List<List<String>> rows(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement st = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) st.setObject(i + 1, args[i]);
            try (ResultSet rs = st.executeQuery()) {
                List<List<String>> out = new ArrayList<>();
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    List<String> row = new ArrayList<>();
                    for (int i = 1; i <= n; i++) row.add(rs.getString(i));
                    out.add(row);
                }
                return out;
            }
        }
    }

    static int exec(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement st = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) st.setObject(i + 1, args[i]);
            return st.executeUpdate();
        }
    }

    static void insertOrder(Connection c, long k, long user, int total) throws SQLException {
        exec(c, ORDER, k, user, 7L, null, 1, "placed", total, Timestamp.valueOf(WHEN));
    }

    public static void main(String[] a) throws Exception {
        String url = "jdbc:mariadb://" + a[0] + ":" + a[1] + "/" + a[4] + "?user=" + a[2] + "&password=" + a[3]
                + "&useServerPrepStmts=" + a[6];
        long base = Long.parseLong(a[5]);
        try (Connection c = DriverManager.getConnection(url)) {
            // Create, read, update and delete by order_id.
            for (long k = base; k < base + 6; k++) insertOrder(c, k, base + k % 3, 1000 + (int) (k % 100));
            say("read", rows(c, "SELECT order_id, user_id, rider_id, status, total_cents, created_at FROM orders WHERE order_id = ?", base + 1));
            say("updated", exec(c, "UPDATE orders SET status = ?, rider_id = ? WHERE order_id = ?", "accepted", 42L, base + 1));
            say("read again", rows(c, "SELECT status, rider_id FROM orders WHERE order_id = ?", base + 1));
            say("deleted", exec(c, "DELETE FROM orders WHERE order_id = ?", base + 5));
            say("count", rows(c, "SELECT COUNT(*) FROM orders WHERE order_id = ?", base + 5));
            // By user_id: the global index.
            say("by user", rows(c, "SELECT order_id, status FROM orders WHERE user_id = ? ORDER BY order_id", base + 1));

            // A transaction of several statements by key.
            long k = base + 10;
            c.setAutoCommit(false);
            insertOrder(c, k, base + 9, 0);
            String item = "INSERT INTO order_items (order_id, line_no, item, qty, price_cents) VALUES (?, ?, ?, ?, ?)";
            exec(c, item, k, 1, "noodles", 2, 850);
            exec(c, item, k, 2, "tea", 1, 300);
            String total = rows(c, "SELECT SUM(qty * price_cents) FROM order_items WHERE order_id = ?", k).get(0).get(0);
            exec(c, "UPDATE orders SET total_cents = ? WHERE order_id = ?", Integer.parseInt(total), k);
            c.commit();
            c.setAutoCommit(true);
            say("with its items", rows(c, "SELECT o.order_id, o.total_cents, i.line_no, i.item FROM orders o JOIN order_items i ON i.order_id = o.order_id WHERE o.order_id = ? ORDER BY i.line_no", k));

            // A multi-row insert across shards (in autocommit), and an aggregate.
            StringBuilder sql = new StringBuilder("INSERT INTO orders (order_id, user_id, merchant_id, rider_id, city_id, status, total_cents, created_at) VALUES ");
            List<Object> args = new ArrayList<>();
            for (long j = base + 20; j < base + 30; j++) {
                sql.append(j == base + 20 ? "" : ", ").append("(?, ?, ?, ?, ?, ?, ?, ?)");
                args.addAll(Arrays.asList(j, base + j % 4, 8L, null, 2, "delivered", 500 + (int) (j % 7), Timestamp.valueOf(WHEN)));
            }
            say("inserted", exec(c, sql.toString(), args.toArray()));
            say("by status", rows(c, "SELECT status, COUNT(*), SUM(total_cents), MIN(order_id), MAX(created_at) FROM orders WHERE order_id BETWEEN ? AND ? GROUP BY status ORDER BY status", base, base + 999));

            // An error, then the connection reused.
            try {
                exec(c, "UPDATE orders SET no_such_column = 1 WHERE order_id = ?", base);
                say("no error for an unknown column", null);
            } catch (SQLException e) {
                say("unknown column: error", e.getErrorCode());
            }
            say("after the error", rows(c, "SELECT total_cents FROM orders WHERE order_id = ?", base));
        }

        // The pool under concurrent workers, each on its own orders.
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        try (MariaDbPoolDataSource pool = new MariaDbPoolDataSource(url + "&maxPoolSize=4")) {
            ExecutorService workers = Executors.newFixedThreadPool(8);
            for (int w = 0; w < 8; w++) {
                final int wk = w;
                workers.submit(() -> {
                    try {
                        for (int i = 0; i < 5; i++) {
                            long k = base + 100 + wk * 10 + i;
                            try (Connection c = pool.getConnection()) { insertOrder(c, k, base + wk, i); }
                            try (Connection c = pool.getConnection()) { exec(c, "UPDATE orders SET total_cents = total_cents + 1 WHERE order_id = ?", k); }
                            try (Connection c = pool.getConnection()) {
                                int got = Integer.parseInt(rows(c, "SELECT total_cents FROM orders WHERE order_id = ?", k).get(0).get(0));
                                if (got != i + 1) failures.add("order " + k + ": " + got);
                            }
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                });
            }
            workers.shutdown();
            workers.awaitTermination(60, TimeUnit.SECONDS);
            try (Connection c = pool.getConnection()) {
                say("workers' failures", failures);
                say("their orders", rows(c, "SELECT COUNT(*), SUM(total_cents) FROM orders WHERE order_id BETWEEN ? AND ?", base + 100, base + 199));
            }
        }
        for (String l : lines) System.out.println(l);
    }
}
