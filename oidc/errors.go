package oidc

import (
	"fmt"
	"log/slog"
	"unicode/utf8"
)

// ErrorCode is a stable, machine-readable reason that the server maps to an
// HTTP status and a problem+json `code`.
type ErrorCode string

// The codes a Provider returns inside an *Error.
const (
	// CodeExchangeFailed: the token endpoint refused the code with an OAuth
	// error (RFC 6749 §5.2: invalid_grant for a replayed or expired code,
	// invalid_client, …). The client's problem, not the provider's.
	CodeExchangeFailed ErrorCode = "exchange_failed"
	// CodeUnavailable: the provider is down, slow, answered garbage, or its
	// discovery document or JWKS is unusable.
	CodeUnavailable ErrorCode = "provider_unavailable"
	// CodeInvalidIDToken: the ID token failed a check of OpenID Connect Core
	// §3.1.3.7 (or is missing where one is required).
	CodeInvalidIDToken ErrorCode = "invalid_id_token"
	// CodeNonceMismatch: the ID token's nonce is not the one sealed in the
	// flow state (OpenID Connect Core §3.1.3.7 step 11): a replayed or
	// injected token.
	CodeNonceMismatch ErrorCode = "nonce_mismatch"
	// CodeUserinfoFailed: the userinfo endpoint failed, or answered for a
	// different subject (OpenID Connect Core §5.3.2).
	CodeUserinfoFailed ErrorCode = "userinfo_failed"
	// CodeIssuerMismatch: the authorization response's `iss` parameter is
	// missing where the provider promised it, or names another issuer
	// (RFC 9207 §2.4, the mix-up defence).
	CodeIssuerMismatch ErrorCode = "issuer_mismatch"
)

// Error is the only error type the Provider's flow methods return for
// problems caused by the provider or by the input; anything else is a
// programming error. Code, Check and Detail are safe to show to a client:
// they never carry tokens, codes, secrets or provider response bodies. Err
// is the internal cause, for logs only.
type Error struct {
	Code   ErrorCode
	Check  string // the check that failed, e.g. "aud", "exp", "signature"
	Detail string // expected vs got, without secrets
	Err    error  // internal cause; may hold provider output: log it, never show it
}

// Error returns the code and the detail (which starts with the check's
// name). It deliberately leaves Err out so that printing the error to a
// client cannot leak a provider's body; log the error with slog (see
// LogValue) or unwrap it to see the cause.
func (e *Error) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = e.Check
	}
	if msg == "" {
		return "oidc: " + string(e.Code)
	}
	return "oidc: " + string(e.Code) + ": " + msg
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// LogValue makes slog log the cause next to the safe fields.
func (e *Error) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("code", string(e.Code)),
		slog.String("check", e.Check),
		slog.String("detail", e.Detail),
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("cause", e.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

func newError(code ErrorCode, check string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Check: check, Detail: fmt.Sprintf(format, args...), Err: cause}
}

// clip makes a value from a token or a provider answer fit for an error
// Detail: printable, short, quoted.
func clip(s string) string {
	const maxLen = 64
	if len(s) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}
