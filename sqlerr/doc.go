// Package sqlerr is the leaf package for coded errors.
//
// Every failure that Courier understands is created here, where it is
// understood, with the MySQL error number, SQLSTATE and a message that tells
// the user what to do. The proxy turns an *Error into an ERR packet exactly
// once, at the edge; anything that reaches the edge uncoded becomes
// 1105/HY000 and is logged as a bug. Backend errors are forwarded unchanged
// and never pass through this package.
//
// The package imports only the standard library so that every layer
// (parser, router, proxy) can use it.
package sqlerr
