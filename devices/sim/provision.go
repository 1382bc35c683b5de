package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"time"
)

// LinkCreds are what one synthetic link needs: the robot's device
// credential and the pupil's join-link token.
type LinkCreds struct {
	PupilID    string
	RobotToken string
	PupilToken string
}

// admin is an LA admin's session on the REST API.
type admin struct {
	base string
	c    *http.Client
	csrf string
}

func (a *admin) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.csrf != "" {
		req.Header.Set("X-CSRF-Token", a.csrf)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Provision signs in as an LA admin and creates n links through the REST
// API, as an admin would: a school and classroom for the run, then per
// link a pupil, a robot lent to the school, placed and paired, enrolled
// with its code, and a join link for the pupil. progress, if set, is
// called after each link.
func Provision(ctx context.Context, server, email, password string, n int, progress func(done int)) ([]LinkCreds, error) {
	jar, _ := cookiejar.New(nil)
	a := &admin{base: strings.TrimRight(server, "/"), c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	var sess struct {
		CSRF string `json:"csrf_token"`
		Role string `json:"role"`
	}
	if err := a.call(ctx, "POST", "/api/v1/session", map[string]string{"email": email, "password": password}, &sess); err != nil {
		return nil, fmt.Errorf("sign in as the LA admin: %w", err)
	}
	a.csrf = sess.CSRF
	tag := time.Now().UTC().Format("20060102-150405")
	var school, class struct {
		ID string `json:"id"`
	}
	if err := a.call(ctx, "POST", "/api/v1/schools", map[string]string{"name": "Load test " + tag}, &school); err != nil {
		return nil, err
	}
	if err := a.call(ctx, "POST", "/api/v1/schools/"+school.ID+"/classrooms", map[string]string{"name": "Load " + tag}, &class); err != nil {
		return nil, err
	}
	today := time.Now().Format(time.DateOnly)
	out := make([]LinkCreds, 0, n)
	for i := 0; i < n; i++ {
		var pupil struct {
			ID string `json:"id"`
		}
		year := 5
		if err := a.call(ctx, "POST", "/api/v1/pupils", map[string]any{"school_id": school.ID, "classroom_id": class.ID,
			"pupil_number": fmt.Sprintf("LT%s-%04d", tag, i), "display_name": fmt.Sprintf("Load pupil %d", i), "year_group": year}, &pupil); err != nil {
			return nil, err
		}
		var dev struct {
			Device struct {
				ID string `json:"id"`
			} `json:"device"`
			Code string `json:"enrollment_code"`
		}
		if err := a.call(ctx, "POST", "/api/v1/devices", map[string]string{"kind": "robot", "name": fmt.Sprintf("Load robot %s-%d", tag, i)}, &dev); err != nil {
			return nil, err
		}
		d := "/api/v1/devices/" + dev.Device.ID
		if err := a.call(ctx, "POST", d+"/loan", map[string]string{"school_id": school.ID, "from": today,
			"to": time.Now().AddDate(0, 0, 1).Format(time.DateOnly)}, nil); err != nil {
			return nil, err
		}
		if err := a.call(ctx, "POST", d+"/classroom", map[string]string{"classroom_id": class.ID}, nil); err != nil {
			return nil, err
		}
		if err := a.call(ctx, "POST", d+"/pupil", map[string]string{"pupil_id": pupil.ID}, nil); err != nil {
			return nil, err
		}
		var enrolled struct {
			Credential string `json:"credential"`
		}
		if err := a.call(ctx, "POST", "/api/v1/devices/enroll", map[string]string{"code": dev.Code}, &enrolled); err != nil {
			return nil, err
		}
		var link struct {
			URL string `json:"url"`
		}
		if err := a.call(ctx, "POST", "/api/v1/pupils/"+pupil.ID+"/join-links", map[string]int{"lifetime_hours": 2}, &link); err != nil {
			return nil, err
		}
		_, token, _ := strings.Cut(link.URL, "#")
		out = append(out, LinkCreds{PupilID: pupil.ID, RobotToken: enrolled.Credential, PupilToken: token})
		if progress != nil {
			progress(i + 1)
		}
	}
	return out, nil
}
