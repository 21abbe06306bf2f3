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
// reference table; and the shapes that need rows merged across shards
// (NeedsMerge): ORDER BY with LIMIT and OFFSET, aggregates, AVG, GROUP BY
// with HAVING, DISTINCT. A shape that is Refusable may be answered with
// 1235, since no merge of per-shard answers can compute it; if Courier
// answers, the answer must be right. Statements are generated from the
// data set's original keys, never from answers, so the list depends only
// on the seeds.
//
// # The comparison
//
// Run reads every row as text over the text protocol (NULL kept apart
// from the empty string); Diff compares error numbers, affected row
// counts, column names and rows, in order when the statement's ORDER BY
// ends with a unique column (Query.Ordered) and as sorted multisets
// otherwise. Values are compared as MariaDB's text, so AVG over integers
// must come back with MariaDB's four decimals. Check runs one statement
// on both servers, and Tally prints outcomes per shape.
//
// The package does no I/O of its own beyond the connections it is given;
// the tests in this directory start the servers (four shards and a
// reference server) and also count the statements each shard receives and
// the memory Courier uses while streaming a million rows.
package difftest
