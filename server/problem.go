package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// Code is a stable, machine-readable error code: the `code` member of every
// problem, with an anchor in the README's error table.
type Code string

// The error codes of the HTTP API (DESIGN.md "HTTP API").
const (
	CodeUnknownProvider      Code = "unknown_provider"
	CodeInvalidRequest       Code = "invalid_request"
	CodeInvalidState         Code = "invalid_state"
	CodeExpiredState         Code = "expired_state"
	CodeBindingMismatch      Code = "binding_mismatch"
	CodeProviderMismatch     Code = "provider_mismatch"
	CodeIssuerMismatch       Code = "issuer_mismatch"
	CodeExchangeFailed       Code = "exchange_failed"
	CodeInvalidIDToken       Code = "invalid_id_token"
	CodeNonceMismatch        Code = "nonce_mismatch"
	CodeUserinfoFailed       Code = "userinfo_failed"
	CodeUserDenied           Code = "user_denied"
	CodeUserhookUnavailable  Code = "userhook_unavailable"
	CodeInvalidToken         Code = "invalid_token"
	CodeExpiredToken         Code = "expired_token"
	CodeSessionEnded         Code = "session_ended"
	CodeRedirectNotAllowed   Code = "redirect_uri_not_allowed"
	CodeProviderUnavailable  Code = "provider_unavailable"
	CodeUnsupportedOperation Code = "unsupported_operation"
	CodeRateLimited          Code = "rate_limited"
	CodeNotFound             Code = "not_found"
	CodeMethodNotAllowed     Code = "method_not_allowed"
	CodePayloadTooLarge      Code = "payload_too_large"
	CodeUnsupportedMediaType Code = "unsupported_media_type"
	CodeInternalError        Code = "internal_error"
)

// codeTitles is the `title` of each code; a test checks every Code has one
// and a README anchor.
var codeTitles = map[Code]string{
	CodeUnknownProvider:      "Unknown provider",
	CodeInvalidRequest:       "Invalid request",
	CodeInvalidState:         "Invalid state",
	CodeExpiredState:         "Expired state",
	CodeBindingMismatch:      "State not bound to this client",
	CodeProviderMismatch:     "Provider mismatch",
	CodeIssuerMismatch:       "Issuer mismatch",
	CodeExchangeFailed:       "Code exchange refused",
	CodeInvalidIDToken:       "Invalid ID token",
	CodeNonceMismatch:        "Nonce mismatch",
	CodeUserinfoFailed:       "Userinfo failed",
	CodeUserDenied:           "User denied",
	CodeUserhookUnavailable:  "User webhook unavailable",
	CodeInvalidToken:         "Invalid token",
	CodeExpiredToken:         "Expired token",
	CodeSessionEnded:         "Session ended",
	CodeRedirectNotAllowed:   "Redirect URI not allowed",
	CodeProviderUnavailable:  "Provider unavailable",
	CodeUnsupportedOperation: "Unsupported operation",
	CodeRateLimited:          "Too many requests",
	CodeNotFound:             "Not found",
	CodeMethodNotAllowed:     "Method not allowed",
	CodePayloadTooLarge:      "Payload too large",
	CodeUnsupportedMediaType: "Unsupported media type",
	CodeInternalError:        "Internal error",
}

// Problem is an RFC 9457 problem detail with edgeauth's stable `code`.
// Detail is shown to clients, so it never carries secrets or provider
// bodies; the internal cause goes to the log only.
type Problem struct {
	Status int    `json:"status"`
	Code   Code   `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
	Type   string `json:"type"`
	// Check names the failed ID-token check, when one did.
	Check string `json:"check,omitempty"`
	// RequestID lets a user quote the log line that has the cause.
	RequestID string `json:"request_id,omitempty"`

	cause error
	// retryAfter, when set, becomes the Retry-After header (seconds).
	retryAfter int
}

func (p *Problem) Error() string {
	if p.cause != nil {
		return string(p.Code) + ": " + p.Detail + ": " + p.cause.Error()
	}
	return string(p.Code) + ": " + p.Detail
}

func (p *Problem) Unwrap() error { return p.cause }

// problem builds a Problem; cause may be nil.
func problem(status int, code Code, detail string, cause error) *Problem {
	return &Problem{Status: status, Code: code, Title: codeTitles[code], Detail: detail, cause: cause}
}

// badRequest is the common 400 invalid_request.
func badRequest(detail string) *Problem {
	return problem(http.StatusBadRequest, CodeInvalidRequest, detail, nil)
}

// problemTypeBase prefixes each code to form the problem `type` URI; the
// README has an anchor per code.
const problemTypeBase = "https://github.com/edgeauth/edgeauth#error-"

// errorHandler renders every error as problem+json. Echo's own errors
// (404, 405, 413 from the body limit) are mapped to stable codes; anything
// else is a 500 whose cause is logged, not shown. The access log writes the
// line, with the problem it finds in the context.
func errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := asProblem(err)
	p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	p.Type = problemTypeBase + string(p.Code)
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	c.Set(ctxProblem, p)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if p.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.retryAfter))
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	_ = c.JSON(p.Status, p)
}

func asProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		cp := *p
		return &cp
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return problem(he.Code, CodeNotFound, "no such route", nil)
		case http.StatusMethodNotAllowed:
			return problem(he.Code, CodeMethodNotAllowed, "method not allowed on this route", nil)
		case http.StatusRequestEntityTooLarge:
			return problem(he.Code, CodePayloadTooLarge, "request body too large", nil)
		case http.StatusUnsupportedMediaType:
			return problem(he.Code, CodeUnsupportedMediaType, "send application/json", nil)
		case http.StatusBadRequest:
			return problem(he.Code, CodeInvalidRequest, "malformed request", he)
		}
		if he.Code >= 400 && he.Code < 500 {
			return problem(he.Code, CodeInvalidRequest, http.StatusText(he.Code), he)
		}
	}
	return problem(http.StatusInternalServerError, CodeInternalError, "unexpected error; quote the request_id when reporting it", err)
}
