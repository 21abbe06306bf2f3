package router

import "github.com/courier-proxy/courier/parser"

// Target is where a statement runs within a cluster.
type Target uint8

// Targets.
const (
	Primary Target = iota
	Replica
)

func (t Target) String() string {
	if t == Replica {
		return "replica"
	}
	return "primary"
}

// Consistency is a session's read consistency.
type Consistency uint8

// Consistency modes.
const (
	// Eventual: reads go to any healthy replica.
	Eventual Consistency = iota
	// Causal: reads see the session's own writes (the proxy waits for the
	// replica to apply the session's last GTID, or uses the primary).
	Causal
	// PrimaryReads: every read goes to the primary.
	PrimaryReads
)

// ParseConsistency reads a mode name.
func ParseConsistency(s string) (Consistency, bool) {
	switch s {
	case "eventual", "":
		return Eventual, true
	case "causal":
		return Causal, true
	case "primary":
		return PrimaryReads, true
	}
	return Eventual, false
}

func (c Consistency) String() string {
	return [...]string{"eventual", "causal", "primary"}[c]
}

// Session is the routing-relevant state of a session.
type Session struct {
	// ReplicaReads: the cluster sends reads to replicas.
	ReplicaReads bool
	// InTransaction: a transaction is open, or autocommit is off (every
	// statement then belongs to a transaction).
	InTransaction bool
	// Pinned: the session keeps its primary connection (user variables,
	// temporary tables, locks, ...).
	Pinned bool
	// Consistency is the session's read consistency.
	Consistency Consistency
	// AllowHints: the user may route with comment hints.
	AllowHints bool
}

// primaryOnly are flags of statements that must run on the primary even
// when they read: they lock, write through a function, or read what only
// the session's own connection has.
const primaryOnly = parser.FlagLockingRead | parser.FlagLockFunc | parser.FlagLastInsertID |
	parser.FlagUserVar | parser.FlagTemporary | parser.FlagDiagnostics | parser.FlagCalcFoundRows |
	parser.FlagMulti | parser.FlagSideEffect

// Decide returns where a statement runs and the consistency its read
// needs (meaningful for Replica only).
func Decide(info parser.Info, s Session) (Target, Consistency) {
	cons := s.Consistency
	if s.AllowHints {
		switch {
		case info.Flags&parser.FlagHintCausal != 0:
			cons = Causal
		case info.Flags&parser.FlagHintEventual != 0:
			cons = Eventual
		}
	}
	if !s.ReplicaReads || s.InTransaction || s.Pinned {
		return Primary, cons
	}
	if info.Kind != parser.KindSelect || info.Flags&primaryOnly != 0 {
		return Primary, cons // a write, or a read that must not leave the primary
	}
	if s.AllowHints {
		switch {
		case info.Flags&parser.FlagHintPrimary != 0:
			return Primary, cons
		case info.Flags&parser.FlagHintReplica != 0:
			return Replica, Eventual
		}
	}
	if cons == PrimaryReads {
		return Primary, cons
	}
	return Replica, cons
}
