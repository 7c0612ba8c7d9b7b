package api

// NeutronError is the body of every error answer:
// {"NeutronError": {"type": ..., "message": ..., "detail": ""}}.
type NeutronError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Detail  string `json:"detail"`
}

// ErrorBody wraps NeutronError as it goes on the wire.
type ErrorBody struct {
	NeutronError NeutronError `json:"NeutronError"`
}
