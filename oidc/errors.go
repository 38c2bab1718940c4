package oidc

import (
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// ErrorCode is a stable, machine-readable reason that the server maps to a
// problem+json `code`; [Error.Fault] says whose fault it is.
type ErrorCode string

// The codes a Provider returns inside an *Error.
const (
	// CodeExchangeFailed: the token endpoint refused the code or refresh
	// token with an OAuth error (RFC 6749 §5.2: invalid_grant for a
	// replayed or expired code, a revoked refresh token, …). FaultClient.
	CodeExchangeFailed ErrorCode = "exchange_failed"
	// CodeUnavailable: the provider is down, slow, answered garbage, its
	// discovery document or JWKS is unusable, or it refused our own client
	// registration. FaultProvider.
	CodeUnavailable ErrorCode = "provider_unavailable"
	// CodeInvalidIDToken: the ID token failed a check of OpenID Connect Core
	// §3.1.3.7 (or is missing where one is required). FaultClient.
	CodeInvalidIDToken ErrorCode = "invalid_id_token"
	// CodeNonceMismatch: the ID token's nonce is not the one sealed in the
	// flow state (OpenID Connect Core §3.1.3.7 step 11): a replayed or
	// injected token. FaultClient.
	CodeNonceMismatch ErrorCode = "nonce_mismatch"
	// CodeUserinfoFailed: the userinfo endpoint failed (FaultProvider), or
	// answered for a different subject (OpenID Connect Core §5.3.2,
	// FaultClient: a substituted access token).
	CodeUserinfoFailed ErrorCode = "userinfo_failed"
	// CodeIssuerMismatch: the authorization response's `iss` parameter is
	// missing where the provider promised it, or names another issuer
	// (RFC 9207 §2.4, the mix-up defence). FaultClient.
	CodeIssuerMismatch ErrorCode = "issuer_mismatch"
	// CodeInvalidToken: a token presented to [Provider.Convert] cannot be
	// verified, is too old, or was issued to another client. FaultClient.
	CodeInvalidToken ErrorCode = "invalid_token"
	// CodeUnsupported: the provider offers no revocation endpoint (RFC
	// 7009), no end_session_endpoint, or no way to verify an access token.
	// FaultClient.
	CodeUnsupported ErrorCode = "unsupported_operation"
	// CodeDomainNotAllowed: the account's hosted domain (Google `hd`) or
	// tenant (Microsoft `tid`) is not in [Config.HostedDomains]. FaultClient.
	CodeDomainNotAllowed ErrorCode = "domain_not_allowed"
)

// Fault says who has to act on an *Error: decided here, where the cause is
// known, so that callers map it to a status without guessing from checks.
type Fault int

const (
	// FaultProvider: the provider is down, slow, answered garbage, or our
	// own client registration is wrong. A server answers 502.
	FaultProvider Fault = iota + 1
	// FaultClient: the application's input or the token it presented is
	// bad. A server answers 4xx.
	FaultClient
)

func (f Fault) String() string {
	switch f {
	case FaultProvider:
		return "provider"
	case FaultClient:
		return "client"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// defaultFault is the fault of code unless the place that makes the
// error knows better (userinfo: an outage, or an answer about someone else).
func defaultFault(code ErrorCode) Fault {
	switch code {
	case CodeUnavailable, CodeUserinfoFailed:
		return FaultProvider
	}
	return FaultClient
}

// Error is the error type the Provider's flow methods return for problems
// caused by the provider or by the input; a plain error is a programming
// error of the caller (an incomplete request). Code, Check and Detail are
// safe to show to a client: they never carry tokens, codes, secrets or
// provider response bodies. Err is the internal cause, for logs only.
type Error struct {
	Code   ErrorCode
	Fault  Fault  // always set: FaultProvider or FaultClient
	Check  string // the check that failed, e.g. "aud", "exp", "signature"
	Detail string // expected vs got, without secrets
	Err    error  // internal cause; may hold provider output: log it, never show it
}

// Error returns the code and the detail (which starts with the check's
// name). It deliberately leaves Err out so that printing the error to a
// client cannot leak a provider's body; log the error with slog (see
// [Error.LogValue]) or unwrap it to see the cause.
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
		slog.String("fault", e.Fault.String()),
		slog.String("check", e.Check),
		slog.String("detail", e.Detail),
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("cause", e.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

// newError makes an *Error with the code's default fault. It returns
// error, not *Error, so that no caller can turn a nil *Error into a
// non-nil error.
func newError(code ErrorCode, check string, cause error, format string, args ...any) error {
	return makeError(code, defaultFault(code), check, cause, format, args...)
}

func makeError(code ErrorCode, fault Fault, check string, cause error, format string, args ...any) error {
	return &Error{Code: code, Fault: fault, Check: check, Detail: fmt.Sprintf(format, args...), Err: cause}
}

// ConfigProblem is one problem with one setting. Field is the setting's
// name in lower snake case, as the suffix of its environment variable
// (client_id, issuer, hosted_domains, …); Msg never contains a secret.
type ConfigProblem struct {
	Field, Msg string
}

// ConfigError lists every problem [New] or [ApplyPreset] found in a Config.
type ConfigError struct {
	Provider string
	Problems []ConfigProblem
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	name := e.Provider
	if name == "" {
		name = "(unnamed)"
	}
	fmt.Fprintf(&b, "oidc: provider %q:", name)
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, " %s: %s", p.Field, p.Msg)
	}
	return b.String()
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
