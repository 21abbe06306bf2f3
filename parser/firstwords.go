package parser

import "bytes"

// FirstWords returns up to n leading words of a statement, lower case,
// read as the server reads it under mode: comments are skipped, the
// content of executable comments the server runs counts as code, and
// that of those it skips does not. A quoted identifier or any other token
// ends the words; uncertain reads end them too (ok false).
func FirstWords(sql []byte, n int, mode Mode) (words []string, ok bool) {
	l := lexer{src: sql, mode: mode}
	for len(words) < n {
		t := l.next()
		if t.kind != tWord {
			break
		}
		words = append(words, string(bytes.ToLower(sql[t.start:t.end])))
	}
	return words, !l.uncertain && !l.bad
}
