package difftest

import (
	"strconv"
	"strings"
)

// Parameterize turns a statement's literals into ? placeholders, the way
// an application written against a driver sends it: each integer literal
// becomes an int64 argument (with its sign, where the minus is not a
// subtraction) and each single-quoted string a string argument (its
// escapes undone as MariaDB reads them). Literals whose meaning would
// change as a parameter, or where the grammar wants a literal, stay in
// the text: decimals and exponents (DECIMAL, DOUBLE), hexadecimal and
// bit values (0x1f, x'41', b'101'), double-quoted strings (which name
// their column), a number after BY (a column position) and the string
// after SEPARATOR. Identifiers, back-quoted names and comments are copied
// as they are.
func Parameterize(sql string) (string, []any) {
	p := parameterizer{sql: sql}
	for i := 0; i < len(sql); {
		i = p.token(i)
	}
	return p.b.String(), p.args
}

// parameterizer is Parameterize's state: the text written so far, the
// arguments taken out of it, and what the previous token was.
type parameterizer struct {
	sql  string
	b    strings.Builder
	args []any
	prev string // the previous word, upper-cased ("" after anything else)
	// operand says the previous token ends an operand (a name, a literal,
	// a closing parenthesis), so that a minus after it subtracts rather
	// than negates.
	operand bool
}

// token writes the token at sql[i], as it is or as a placeholder, and
// returns the index past it.
func (p *parameterizer) token(i int) int {
	sql := p.sql
	c := sql[i]
	switch {
	case isIdentStart(c):
		return p.word(i)
	case c == '`' || c == '"' || c == '\'' && p.prev == "SEPARATOR":
		end := skipQuoted(sql, i, c)
		p.keep(sql[i:end], true)
		return end
	case c == '\'':
		s, end := unquote(sql, i)
		p.arg(s)
		return end
	case c == '/' && strings.HasPrefix(sql[i:], "/*"):
		return p.comment(i)
	case isDigit(c) || c == '-' && !p.operand && i+1 < len(sql) && isDigit(sql[i+1]):
		return p.number(i)
	case c == '.' && i+1 < len(sql) && isDigit(sql[i+1]):
		end := literalEnd(sql, i+1)
		p.keep(sql[i:end], true)
		return end
	case c == ' ' || c == '\t' || c == '\n':
		p.b.WriteByte(c)
	default:
		p.keep(string(c), c == ')')
	}
	return i + 1
}

// keep writes text as it is; isOperand says whether it ends an operand.
func (p *parameterizer) keep(text string, isOperand bool) {
	p.b.WriteString(text)
	p.prev, p.operand = "", isOperand
}

// arg writes a placeholder for the argument v.
func (p *parameterizer) arg(v any) {
	p.keep("?", true)
	p.args = append(p.args, v)
}

// word writes the identifier or keyword at sql[i], or the hexadecimal or
// bit value (x'41', b'101') it starts, and returns the index past it.
func (p *parameterizer) word(i int) int {
	sql := p.sql
	j := i
	for j < len(sql) && isIdentChar(sql[j]) {
		j++
	}
	word := sql[i:j]
	if j < len(sql) && sql[j] == '\'' && (strings.EqualFold(word, "x") || strings.EqualFold(word, "b")) {
		end := skipQuoted(sql, j, '\'')
		p.keep(sql[i:end], true)
		return end
	}
	p.b.WriteString(word)
	p.prev, p.operand = strings.ToUpper(word), !keywords[strings.ToUpper(word)]
	return j
}

// comment copies the /* comment */ at sql[i] (to the end of sql if it is
// not closed) and returns the index past it.
func (p *parameterizer) comment(i int) int {
	end := strings.Index(p.sql[i+2:], "*/")
	if end < 0 {
		end = len(p.sql) - i - 4
	}
	p.b.WriteString(p.sql[i : i+end+4])
	return i + end + 4
}

// number writes the number at sql[i] (with its minus sign, if any): an
// integer that fits in an int64 becomes an argument, unless it follows
// BY; a decimal, an exponent or a hexadecimal value stays as it is. It
// returns the index past the number.
func (p *parameterizer) number(i int) int {
	sql := p.sql
	j := i + 1
	for j < len(sql) && isDigit(sql[j]) {
		j++
	}
	literal := j < len(sql) && (sql[j] == '.' || isIdentChar(sql[j]))
	if !literal && p.prev != "BY" {
		if n, err := strconv.ParseInt(sql[i:j], 10, 64); err == nil {
			p.arg(n)
			return j
		}
	}
	end := literalEnd(sql, j)
	p.keep(sql[i:end], true)
	return end
}

// literalEnd returns the index past the rest of a numeric literal that
// continues at sql[j]: its digits, letters and dots.
func literalEnd(sql string, j int) int {
	for j < len(sql) && (isIdentChar(sql[j]) || sql[j] == '.') {
		j++
	}
	return j
}

// keywords are the words after which a minus sign negates: the ones
// that can stand right before an operand.
var keywords = map[string]bool{
	"SELECT": true, "WHERE": true, "AND": true, "OR": true, "NOT": true, "IN": true, "BETWEEN": true,
	"IS": true, "LIKE": true, "WHEN": true, "THEN": true, "ELSE": true, "ON": true, "HAVING": true,
	"LIMIT": true, "OFFSET": true, "VALUES": true, "SET": true, "DO": true, "BY": true, "INTERVAL": true,
	"DIV": true, "MOD": true, "XOR": true, "ALL": true, "ANY": true, "DISTINCT": true, "RETURN": true,
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || (c|0x20 >= 'a' && c|0x20 <= 'z')
}
func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) }

// skipQuoted returns the index just past the quoted text that starts at
// sql[i] (a doubled quote stands for itself; in strings a backslash
// escapes the next byte).
func skipQuoted(sql string, i int, q byte) int {
	for j := i + 1; j < len(sql); j++ {
		switch {
		case sql[j] == '\\' && q != '`':
			j++
		case sql[j] == q && j+1 < len(sql) && sql[j+1] == q:
			j++
		case sql[j] == q:
			return j + 1
		}
	}
	return len(sql)
}

// unquote reads the single-quoted string at sql[i] with MariaDB's escapes
// (default sql_mode) and returns its value and the index past it. \% and
// \_ keep their backslash, as MariaDB keeps it for LIKE.
func unquote(sql string, i int) (string, int) {
	var b strings.Builder
	for j := i + 1; j < len(sql); j++ {
		c := sql[j]
		switch {
		case c == '\\' && j+1 < len(sql):
			j++
			switch e := sql[j]; e {
			case '0':
				b.WriteByte(0)
			case 'b':
				b.WriteByte('\b')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'Z':
				b.WriteByte(26)
			case '%', '_':
				b.WriteByte('\\')
				b.WriteByte(e)
			default:
				b.WriteByte(e)
			}
		case c == '\'' && j+1 < len(sql) && sql[j+1] == '\'':
			b.WriteByte('\'')
			j++
		case c == '\'':
			return b.String(), j + 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), len(sql)
}
