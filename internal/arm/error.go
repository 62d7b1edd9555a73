package arm

import (
	"fmt"
	"net/http"
)

// Error is the ARM error model: it renders as
// {"error":{"code","message","target","details"}} with Status as the HTTP
// status. It is the only error type that crosses the HTTP boundary.
type Error struct {
	Status  int      `json:"-"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Target  string   `json:"target,omitempty"`
	Details []*Error `json:"details,omitempty"`
}

func (e *Error) Error() string {
	if e.Target != "" {
		return fmt.Sprintf("%s: %s (target %s)", e.Code, e.Message, e.Target)
	}
	return e.Code + ": " + e.Message
}

// Errorf builds an Error.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// BadRequest builds a 400 Error.
func BadRequest(code, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, code, format, args...)
}

// WithTarget sets Target and returns e.
func (e *Error) WithTarget(t string) *Error { e.Target = t; return e }

// Envelope is the JSON body of an error response.
type Envelope struct {
	Error *Error `json:"error"`
}

// Error codes Paddock answers with. Codes marked verified are Azure's own
// (see docs/compatibility.md); the others are Paddock's stable choices for
// cases Azure's code is not documented.
const (
	CodeMissingAPIVersion        = "MissingApiVersionParameter"
	CodeNoRegisteredProvider     = "NoRegisteredProviderFound"
	CodeInvalidAPIVersion        = "InvalidApiVersionParameter"
	CodeInvalidResourceType      = "InvalidResourceType"
	CodeResourceNotFound         = "ResourceNotFound"
	CodeResourceGroupNotFound    = "ResourceGroupNotFound"
	CodeNotFound                 = "NotFound"
	CodeParentResourceNotFound   = "ParentResourceNotFound"
	CodeInvalidRequestFormat     = "InvalidRequestFormat"
	CodeInvalidRequestContent    = "InvalidRequestContent"
	CodeInvalidParameter         = "InvalidParameter"
	CodeInvalidResourceReference = "InvalidResourceReference"
	CodeWrongReferenceType       = "InvalidJsonReferenceWrongType"
	CodeLinkedInvalidPropertyID  = "LinkedInvalidPropertyId"
	CodeInvalidResourceName      = "InvalidResourceName"
	CodeLocationRequired         = "LocationRequired"
	CodePreconditionFailed       = "PreconditionFailed"
	CodeAnotherOperation         = "AnotherOperationInProgress"
	CodeRequestTooLarge          = "RequestEntityTooLarge"
	CodeNoRouteFound             = "NoRouteFound"
	CodeMethodNotAllowed         = "MethodNotAllowed"
	CodeUnsupportedMediaType     = "UnsupportedMediaType"
	CodeInternal                 = "InternalServerError"
	CodePropertyChangeNotAllowed = "PropertyChangeNotAllowed"
	CodeInvalidLocation          = "InvalidLocation"
	CodeLocationMismatch         = "LocationMismatch"
)
