package webhook

import (
	"encoding/json"
	"errors"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	imagepolicyv1alpha1 "k8s.io/api/imagepolicy/v1alpha1"
)

// The API versions and kinds tollgate answers. The apiserver requires the
// response to carry the same apiVersion and kind as the request.
const (
	imageReviewAPIVersion     = "imagepolicy.k8s.io/v1alpha1"
	imageReviewKind           = "ImageReview"
	admissionReviewAPIVersion = "admission.k8s.io/v1"
	admissionReviewKind       = "AdmissionReview"
)

// errMalformed marks request bodies that do not decode to the expected
// review; they are answered with HTTP 400 and a well-formed review body.
var errMalformed = errors.New("malformed review")

// decodeImageReview parses an ImageReview request body.
func decodeImageReview(body []byte) (*imagepolicyv1alpha1.ImageReview, error) {
	var r imagepolicyv1alpha1.ImageReview
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%w: decoding ImageReview: %v", errMalformed, err)
	}
	if r.APIVersion != imageReviewAPIVersion || r.Kind != imageReviewKind {
		return nil, fmt.Errorf("%w: got apiVersion %q kind %q, want %s %s", errMalformed, r.APIVersion, r.Kind, imageReviewAPIVersion, imageReviewKind)
	}
	for i, c := range r.Spec.Containers {
		if c.Image == "" {
			return nil, fmt.Errorf("%w: spec.containers[%d].image is empty", errMalformed, i)
		}
	}
	return &r, nil
}

// decodeAdmissionReview parses an AdmissionReview request body. The uid is
// returned even when the rest is malformed, so the error response can echo it.
func decodeAdmissionReview(body []byte) (*admissionv1.AdmissionRequest, string, error) {
	var r admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, "", fmt.Errorf("%w: decoding AdmissionReview: %v", errMalformed, err)
	}
	uid := ""
	if r.Request != nil {
		uid = string(r.Request.UID)
	}
	if r.APIVersion != admissionReviewAPIVersion || r.Kind != admissionReviewKind {
		return nil, uid, fmt.Errorf("%w: got apiVersion %q kind %q, want %s %s", errMalformed, r.APIVersion, r.Kind, admissionReviewAPIVersion, admissionReviewKind)
	}
	if r.Request == nil {
		return nil, uid, fmt.Errorf("%w: no request", errMalformed)
	}
	if uid == "" {
		return nil, uid, fmt.Errorf("%w: request.uid is empty", errMalformed)
	}
	return r.Request, uid, nil
}

// imageReviewResponse is the ImageReview tollgate sends back. The apiserver
// reads only status; spec is left out.
type imageReviewResponse struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Status     imageReviewStatus `json:"status"`
}

type imageReviewStatus struct {
	Allowed          bool              `json:"allowed"`
	Reason           string            `json:"reason,omitempty"`
	AuditAnnotations map[string]string `json:"auditAnnotations,omitempty"`
}

func newImageReviewResponse(s imageReviewStatus) imageReviewResponse {
	return imageReviewResponse{APIVersion: imageReviewAPIVersion, Kind: imageReviewKind, Status: s}
}

// admissionReviewResponse is the AdmissionReview tollgate sends back: only
// response, with the request's uid.
type admissionReviewResponse struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Response   admissionResponse `json:"response"`
}

type admissionResponse struct {
	UID     string  `json:"uid"`
	Allowed bool    `json:"allowed"`
	Status  *status `json:"status,omitempty"`
	// Patch is base64 in JSON (a []byte), as the API defines it.
	Patch            []byte            `json:"patch,omitempty"`
	PatchType        string            `json:"patchType,omitempty"`
	AuditAnnotations map[string]string `json:"auditAnnotations,omitempty"`
	Warnings         []string          `json:"warnings,omitempty"`
}

// status is the part of metav1.Status the apiserver reads. code is always
// set: the apiserver turns 0 into 403 but other implementations differ.
type status struct {
	Code    int    `json:"code"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message"`
}

func newAdmissionReviewResponse(r admissionResponse) admissionReviewResponse {
	return admissionReviewResponse{APIVersion: admissionReviewAPIVersion, Kind: admissionReviewKind, Response: r}
}

// denied is an AdmissionReview response refusing the request with 403.
func denied(uid, msg string) admissionResponse {
	return admissionResponse{UID: uid, Status: &status{Code: 403, Reason: "Forbidden", Message: msg}}
}

// failed is an AdmissionReview response for a request tollgate could not
// judge (code is the HTTP status sent with it).
func failed(uid string, code int, reason, msg string) admissionResponse {
	return admissionResponse{UID: uid, Status: &status{Code: code, Reason: reason, Message: msg}}
}
