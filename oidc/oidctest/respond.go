package oidctest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// writeJSON writes v. Every JSON answer of the provider may carry tokens or
// personal data, so none is stored by caches (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // a hook put something unmarshalable in
		status = http.StatusInternalServerError
		b = []byte(`{"error":"server_error","error_description":"oidctest: response is not JSON-encodable"}`)
	}
	if status < 200 || status > 999 { // a fault's status out of range; WriteHeader would panic
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// allowMethods answers 405 unless r uses one of methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "invalid_request", "error_description": "method not allowed"})
	return false
}
