package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// decodeJSON reads the body as one JSON object into v. JSON only: a form
// post is a CORS "simple request" that any page can send without a
// preflight. Unknown fields and trailing data are refused, each with a
// message that names what was wrong; shape shows the expected body.
func decodeJSON(c echo.Context, v any, shape string) error {
	if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationJSON {
		return problem(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "send the body as application/json: "+shape, nil)
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		// The body limit answers 413 itself; anything else is a broken
		// connection.
		return problem(http.StatusBadRequest, CodeInvalidRequest, "could not read the body", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badJSON(err, shape)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("trailing data after the JSON object; send exactly one object: " + shape)
	}
	return nil
}

func badJSON(err error, shape string) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return badRequest("the body is empty; send " + shape)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return badRequest(fmt.Sprintf("%s must be a %s, not a JSON %s; send %s", typeErr.Field, kindName(typeErr), typeErr.Value, shape))
	case errors.As(err, &typeErr):
		return badRequest(fmt.Sprintf("the body must be a JSON object, not a JSON %s; send %s", typeErr.Value, shape))
	case errors.As(err, &syntaxErr):
		return badRequest(fmt.Sprintf("the body is not valid JSON (at byte %d); send %s", syntaxErr.Offset, shape))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for this one.
		return badRequest(fmt.Sprintf("unknown field %s; send %s", strings.TrimPrefix(err.Error(), "json: unknown field "), shape))
	}
	return problem(http.StatusBadRequest, CodeInvalidRequest, "malformed JSON body; send "+shape, err)
}

func kindName(e *json.UnmarshalTypeError) string {
	switch e.Type.Kind().String() {
	case "string":
		return "string"
	case "int", "int64", "float64":
		return "number"
	case "bool":
		return "boolean"
	}
	return e.Type.String()
}

// field is one request field for checkFields: its name, value and limit;
// optional fields may be empty.
type field struct {
	name, value string
	max         int
	optional    bool
}

// checkFields reports every missing or oversized field at once, so a
// developer fixes the request in one go.
func checkFields(fields ...field) error {
	var missing, long []string
	for _, f := range fields {
		switch {
		case f.value == "" && !f.optional:
			missing = append(missing, f.name)
		case len(f.value) > f.max:
			long = append(long, fmt.Sprintf("%s (at most %d characters)", f.name, f.max))
		}
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "missing: "+strings.Join(missing, ", "))
	}
	if len(long) > 0 {
		parts = append(parts, "too long: "+strings.Join(long, ", "))
	}
	if len(parts) == 0 {
		return nil
	}
	return badRequest(strings.Join(parts, "; "))
}

// jsonSerializer writes answers without HTML escaping: URLs keep their
// "&" (not "\u0026"), which is what a developer copies from a terminal.
// Every answer is application/json under a CSP that renders nothing, so
// the escaping protects no page.
type jsonSerializer struct{ echo.DefaultJSONSerializer }

func (jsonSerializer) Serialize(c echo.Context, v any, indent string) error {
	enc := json.NewEncoder(c.Response())
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	return enc.Encode(v)
}
