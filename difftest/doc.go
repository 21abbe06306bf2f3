// Package difftest checks Courier against the database it stands in for:
// the same data is loaded into Courier over several shards and into one
// MariaDB server, the same statements run on both, and every answer must
// be the same. A sharding proxy is correct exactly when a client cannot
// tell it from one server holding all the rows; this package states that
// as a test rather than as a list of cases someone thought of.
//
// # The data
//
// Generate makes the delivery schema's rows (testdata/delivery/schema.sql)
// from a seed: cities (reference data, two without orders), users,
// merchants, riders, tens of thousands of orders and their items. The
// distributions are the ones that break merges: a few very heavy users
// and riders (Zipf), orders without a rider (NULL), five statuses of an
// ENUM (which sorts by position, not by name), created_at with
// milliseconds and deliberate ties, keys that are sparse, 0, far up the
// BIGINT range and negative, and item names that need escaping, differ
// only by case or accent, or are four-byte UTF-8. Table.Inserts gives
// multi-row INSERTs naming every column, so Courier splits them by shard.
//
// # The statements
//
// Queries makes statements from a seed, each tagged with a shape (see
// Shapes): point reads, IN lists and ORs of keys, scatter reads, joins
// within a key group and with reference tables, writes by key followed by
// reads of what they touched, statements Courier must refuse with 1235,
// keys written as strings or expressions, expressions whose text is the
// column name, UNION, subqueries, window functions and outer joins from a
// reference table; scripts of one session: transactions of several
// statements by key over one shard or two, multi-statement batches, and
// new rows read back at once by key, by both keys and by a global index
// (read-your-writes, which a replica that has not applied them yet would
// answer wrongly); and the shapes that need rows merged across shards
// (NeedsMerge): ORDER BY with LIMIT and OFFSET, aggregates, AVG, GROUP BY
// with HAVING, DISTINCT, and aggregates of DISTINCT values and
// GROUP_CONCAT. A shape that is Refusable may be answered with 1235,
// since no merge of per-shard answers can compute it; if Courier answers,
// the answer must be right. Statements are generated from the data set's
// original keys, never from answers, so the list depends only on the
// seeds.
//
// # The ways
//
// Every statement runs in every Way, the forms in which clients send it:
// as text; prepared on the server with its literals as arguments
// (Parameterize), as go-sql-driver, Connector/J, PDO and most ORMs send
// any statement with arguments; prepared inside a transaction on one
// connection (database/sql's BeginTx ... Commit); and that again against a
// Courier that rejects multi-shard transactions, for the statements that
// stay on one shard (which it must run) and the two-shard transactions
// (whose statement that reaches the second shard it must refuse, keeping
// the transaction). Batches go as one COM_QUERY on a session opened with
// multiStatements; prepared, their statements go one by one.
//
// # The comparison
//
// Check runs one query in one way on both servers' Sides (a session for
// statements, one for batches) and compares every answer: rows as text
// (NULL kept apart from the empty string; in the binary protocol, the
// driver's text for the values), error numbers, affected row counts (of
// every statement of a batch), column names and rows, in order when the
// statement's ORDER BY ends with a unique column (Query.Ordered) and as
// sorted multisets otherwise, and the BEGIN and COMMIT of a transaction.
// Values are compared as MariaDB's text, so AVG over integers must come
// back with MariaDB's four decimals. After a difference both sides'
// sessions are rolled back, and a session a server closed is replaced.
// Tally prints outcomes per shape and way.
//
// The package does no I/O of its own beyond the connections it is given.
// The tests in this directory start the servers (four shards of a
// primary and a GTID replica each, behind Courier, and a reference
// server), and they undo what a defect leaves behind so that it shows
// once: transactions Courier left open on the shards are ended (Courier
// is then restarted), and rows a wrong write changed are set back to the
// reference's on the shards; after the run the shards must hold exactly
// the reference's rows, each on its own shard, with its global index
// entries. They also count the statements each shard receives and the
// memory Courier uses while streaming a million rows.
package difftest
