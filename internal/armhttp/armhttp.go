// Package armhttp is Paddock's HTTP boundary: it routes ARM REST paths
// (case-insensitive keywords, doubled slashes tolerated), checks
// api-versions, applies the request pipeline (request ids, size limits, an
// authentication step), calls the resource providers in rp, and renders
// results: bodies, long-running-operation headers, paging, and every error
// as an ARM error envelope. It reaches the store only through rp.
package armhttp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/lbplan"
	"github.com/paddock-lb/paddock/internal/rp"
)

// Options configure the handler.
type Options struct {
	RP     *rp.Service
	Logger *slog.Logger
	// PageSize is the number of items per list page (default 100).
	PageSize int
	// MaxBodyBytes caps request bodies (default 16 MiB).
	MaxBodyBytes int64
	// DefaultSubscription is listed by GET /subscriptions even before it
	// holds anything, so that clients that log in find one.
	DefaultSubscription string
	// Ready reports readiness for /healthz (nil: always ready).
	Ready func() bool
	// Health reports what the data plane knows of a rule's backends; nil
	// when no data plane runs.
	Health RuleHealthSource
	// Status, when set, answers GET /paddock/v1/status (the data plane's
	// view: listeners, backends, notes).
	Status func() any
}

// RuleHealthSource reports the backends of a load-balancing rule.
type RuleHealthSource interface {
	RuleHealth(ruleID string) (*lbplan.RuleView, bool)
}

// Handler serves the ARM API.
type Handler struct {
	rp       *rp.Service
	log      *slog.Logger
	pageSize int
	maxBody  int64
	defSub   string
	ready    func() bool
	health   RuleHealthSource
	status   func() any
}

// New returns the ARM HTTP handler.
func New(opts Options) *Handler {
	h := &Handler{rp: opts.RP, log: opts.Logger, pageSize: opts.PageSize, maxBody: opts.MaxBodyBytes, defSub: opts.DefaultSubscription, ready: opts.Ready, health: opts.Health, status: opts.Status}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.pageSize <= 0 {
		h.pageSize = 100
	}
	if h.maxBody <= 0 {
		h.maxBody = 16 << 20
	}
	if h.defSub == "" {
		h.defSub = "00000000-0000-0000-0000-000000000001"
	}
	return h
}

// request carries one call through the pipeline.
type request struct {
	w         http.ResponseWriter
	r         *http.Request
	segs      []string // path segments, empty ones dropped
	query     url.Values
	requestID string
	body      []byte
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req := &request{w: w, r: r, query: r.URL.Query(), requestID: arm.NewGUID()}
	for _, s := range strings.Split(r.URL.Path, "/") {
		if s != "" {
			if u, err := url.PathUnescape(s); err == nil {
				s = u
			}
			req.segs = append(req.segs, s)
		}
	}
	hd := w.Header()
	hd.Set("x-ms-request-id", req.requestID)
	corr := r.Header.Get("x-ms-correlation-request-id")
	if corr == "" {
		corr = req.requestID
	}
	hd.Set("x-ms-correlation-request-id", corr)
	if cid := r.Header.Get("x-ms-client-request-id"); cid != "" {
		hd.Set("x-ms-client-request-id", cid)
	}
	err := h.serve(req)
	if err != nil {
		h.writeError(req, err)
	}
	h.log.Debug("request", "method", r.Method, "path", r.URL.Path, "request_id", req.requestID, "elapsed", time.Since(start))
}

func (h *Handler) serve(req *request) error {
	if err := h.authenticate(req); err != nil {
		return err
	}
	if req.r.Body != nil && req.r.Method != http.MethodGet && req.r.Method != http.MethodHead {
		b, err := io.ReadAll(http.MaxBytesReader(req.w, req.r.Body, h.maxBody))
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return arm.Errorf(http.StatusRequestEntityTooLarge, arm.CodeRequestTooLarge, "The request content length exceeds the limit of %d bytes.", h.maxBody)
		}
		if err != nil {
			return arm.BadRequest(arm.CodeInvalidRequestContent, "The request content could not be read: %v.", err)
		}
		req.body = b
	}
	return h.route(req)
}

// authenticate is the pipeline's authentication step. Until Paddock
// authenticates, any bearer token (or none) is accepted.
func (h *Handler) authenticate(req *request) error { return nil }

func (h *Handler) writeError(req *request, err error) {
	var ae *arm.Error
	if !errors.As(err, &ae) {
		if errors.Is(err, context.Canceled) {
			ae = arm.Errorf(499, "RequestCanceled", "The request was canceled.")
		} else {
			h.log.Error("internal error", "request_id", req.requestID, "method", req.r.Method, "path", req.r.URL.Path, "err", err)
			ae = arm.Errorf(http.StatusInternalServerError, arm.CodeInternal, "An internal error occurred. Request id %s.", req.requestID)
		}
	}
	status := ae.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	req.w.Header().Set("x-ms-error-code", ae.Code)
	writeJSON(req.w, status, arm.Envelope{Error: ae})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"InternalServerError","message":"response encoding failed"}}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func noRoute(req *request) error {
	return arm.Errorf(http.StatusNotFound, arm.CodeNoRouteFound, "The request path '%s' with method %s is not supported by Paddock.", req.r.URL.Path, req.r.Method)
}

func methodNotAllowed(req *request) error {
	return arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed, "The method %s is not allowed on '%s'.", req.r.Method, req.r.URL.Path)
}

func (req *request) baseURL() string {
	scheme := "http"
	if req.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + req.r.Host
}

func eq(a, b string) bool { return strings.EqualFold(a, b) }
