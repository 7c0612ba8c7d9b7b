package neutron

import (
	"net/http"
	"net/url"
	"strconv"
)

// link is one pagination link.
type link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// paginate cuts one page out of sorted objects (Neutron's limit, marker
// and page_reverse) and returns it with its next/previous links.
func (q *query) paginate(r *http.Request, objs []object) ([]object, []link, error) {
	if q.limit == 0 && q.marker == "" {
		return objs, nil, nil
	}
	start, end := 0, len(objs)
	if q.marker != "" {
		i := indexOf(objs, q.marker)
		if i < 0 {
			return nil, nil, transportErr(errNotFound, "Marker "+q.marker+" could not be found.")
		}
		if q.reverse {
			end = i
		} else {
			start = i + 1
		}
	}
	more := false
	if q.limit > 0 && end-start > q.limit {
		more = true
		if q.reverse {
			start = end - q.limit
		} else {
			end = start + q.limit
		}
	}
	page := objs[start:end]
	var links []link
	if len(page) == 0 {
		return page, nil, nil
	}
	first, last := idOf(page[0]), idOf(page[len(page)-1])
	// Forward paging: "next" when more follow, "previous" when a marker
	// was given. Reverse paging mirrors that.
	hasNext, hasPrev := more, q.marker != ""
	if q.reverse {
		hasNext, hasPrev = q.marker != "", more
	}
	if hasNext {
		links = append(links, link{"next", pageURL(r, q.limit, last, false)})
	}
	if hasPrev {
		links = append(links, link{"previous", pageURL(r, q.limit, first, true)})
	}
	return page, links, nil
}

func indexOf(objs []object, id string) int {
	for i, o := range objs {
		if idOf(o) == id {
			return i
		}
	}
	return -1
}

func idOf(o object) string {
	s, _ := o["id"].(string)
	return s
}

// pageURL is the request URL with the paging parameters replaced.
func pageURL(r *http.Request, limit int, marker string, reverse bool) string {
	q := url.Values{}
	for k, vs := range r.URL.Query() {
		if k != "limit" && k != "marker" && k != "page_reverse" {
			q[k] = vs
		}
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	q.Set("marker", marker)
	if reverse {
		q.Set("page_reverse", "True")
	}
	return baseURL(r) + r.URL.Path + "?" + q.Encode()
}

// baseURL is the scheme and host the client used.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host
}
