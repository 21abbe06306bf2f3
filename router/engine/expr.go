package engine

// Expr is a condition or value over the columns of combined rows (a
// HAVING clause evaluated after shards' partial groups were folded).
type Expr interface{ expr() }

// Expression nodes.
type (
	// ColExpr is the value of a column.
	ColExpr struct{ Col Col }
	// LitExpr is a constant: a number, a string or NULL.
	LitExpr struct {
		Val       string
		Num, Null bool
	}
	// ArgExpr is the value of a bind slot.
	ArgExpr struct{ Slot int }
	// CmpExpr compares: = <> < <= > >= <=>.
	CmpExpr struct {
		Op   string
		L, R Expr
	}
	// LogicExpr is AND, OR, XOR (L and R) or NOT (L only).
	LogicExpr struct {
		Op   string
		L, R Expr
	}
	// ArithExpr is + - * /.
	ArithExpr struct {
		Op   string
		L, R Expr
	}
	// IsNullExpr is IS [NOT] NULL.
	IsNullExpr struct {
		E   Expr
		Not bool
	}
)

func (ColExpr) expr()    {}
func (LitExpr) expr()    {}
func (ArgExpr) expr()    {}
func (CmpExpr) expr()    {}
func (LogicExpr) expr()  {}
func (ArithExpr) expr()  {}
func (IsNullExpr) expr() {}
