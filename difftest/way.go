package difftest

import (
	"fmt"
	"strings"
)

// Way is the form in which a statement reaches both servers. Drivers
// differ: the text protocol is what a command-line client sends, while
// go-sql-driver (like Connector/J, PDO and most ORMs) prepares every
// statement that has arguments, inside transactions too.
type Way int

// Ways.
const (
	// Text sends each statement as COM_QUERY text.
	Text Way = iota
	// Prepared sends each statement as a server-side prepared statement
	// with its literals as ? arguments (RunPrepared); BEGIN and COMMIT go
	// as text, as drivers send them.
	Prepared
	// Txn sends each statement prepared inside a transaction on one
	// connection (database/sql's BeginTx ... Commit), reads what a write
	// changed before and after the COMMIT.
	Txn
	// TxnReject is Txn against a Courier whose multi_shard_transactions is
	// reject. Only statements whose every part stays on one shard run this
	// way, and the two-shard transactions, whose statement that reaches
	// the second shard must be refused with 1235 while the transaction
	// goes on (the reference server runs the transaction without it).
	TxnReject
)

// AllWays are the ways in report order.
var AllWays = []Way{Text, Prepared, Txn, TxnReject}

var wayNames = map[Way]string{Text: "text", Prepared: "prepared", Txn: "txn", TxnReject: "txn_reject"}

func (w Way) String() string { return wayNames[w] }

// prepared reports whether the way sends statements prepared.
func (w Way) prepared() bool { return w != Text }

// inTxn reports whether the way wraps each statement in a transaction.
func (w Way) inTxn() bool { return w == Txn || w == TxnReject }

// ParseWays reads a comma-separated list of way names ("text,prepared");
// "" or "all" is every way.
func ParseWays(s string) ([]Way, error) {
	if s == "" || s == "all" {
		return AllWays, nil
	}
	var out []Way
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		found := false
		for _, w := range AllWays {
			if w.String() == name {
				out = append(out, w)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown way %q: want a list of text, prepared, txn, txn_reject", name)
		}
	}
	return out, nil
}

// Runs reports whether q runs in way w: every query runs as text,
// prepared and in a transaction; against the Courier that rejects
// multi-shard transactions only the queries that stay on one shard, or
// that mark the statement that reaches a second one.
func Runs(q Query, w Way) bool {
	if w != TxnReject {
		return true
	}
	if q.OneShard {
		return true
	}
	for _, st := range q.Steps {
		if st.SecondShard {
			return true
		}
	}
	return false
}
