package signaling

// The devices' routes: enrollment, the list with live status, alerts and
// their event stream, loans, placing, pairing, revoking and commands.

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	qrcode "github.com/skip2/go-qrcode"

	"seatlink/devices"
	"seatlink/internal/wire"
	"seatlink/media"
	"seatlink/people"
)

// deviceRoutes are the robots and consoles: enrolling, lending, placing, pairing and commanding them.
func (s *Server) deviceRoutes() []apiRoute {
	return []apiRoute{
		{Method: "POST", Path: "/api/v1/devices/enroll", Summary: "A device exchanges its enrollment code for a credential",
			Public: true, Body: "Enroll", handle: s.enrollDevice},
		{Method: "GET", Path: "/api/v1/devices", Summary: "Devices you may see, with live status",
			Action: people.ActDeviceList, handle: s.listDevices},
		{Method: "GET", Path: "/api/v1/devices/alerts", Summary: "Alerts of the devices you may see",
			Action: people.ActDeviceList, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.Hub.Alerts(c.Request.Context(), a)
			}},
		{Method: "GET", Path: "/api/v1/devices/events", Summary: "Server-sent events: a device's status changed",
			Action: people.ActDeviceList, handle: s.deviceEvents},
		{Method: "POST", Path: "/api/v1/devices", Summary: "Register a device and get its enrollment code",
			Action: people.ActDeviceCreate, Body: "DeviceInput", Status: 201, handle: s.createDevice},
		{Method: "POST", Path: "/api/v1/devices/:device/enrollment-code", Summary: "A new enrollment code for a device",
			Action: people.ActDeviceCreate, Status: 201, handle: func(c *gin.Context, a people.Actor) (any, error) {
				code, err := s.deps.Devices.NewEnrollmentCode(c.Request.Context(), a, c.Param("device"))
				if err != nil {
					return nil, err
				}
				d, err := s.deps.Devices.Get(c.Request.Context(), a, c.Param("device"))
				if err != nil {
					return nil, err
				}
				return gin.H{"enrollment_code": code, "expires_in_s": int(devices.EnrollmentLifetime.Seconds()),
					"enrollment_qr": s.enrollmentQR(c, code, d.Kind)}, nil
			}},
		{Method: "GET", Path: "/api/v1/devices/:device/loans", Summary: "A device's loan history",
			Action: people.ActDeviceManage, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.Devices.Loans(c.Request.Context(), a, c.Param("device"))
			}},
		{Method: "POST", Path: "/api/v1/devices/:device/loan", Summary: "Lend a device to a school",
			Action: people.ActDeviceManage, Body: "Loan", handle: s.lendDevice},
		{Method: "POST", Path: "/api/v1/devices/:device/classroom", Summary: "Place a device in a classroom",
			Action: people.ActDeviceManage, Body: "ClassroomRef", handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					ClassroomID string `json:"classroom_id"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return gin.H{"ok": true}, s.deps.Devices.Place(c.Request.Context(), a, c.Param("device"), in.ClassroomID)
			}},
		{Method: "POST", Path: "/api/v1/devices/:device/pupil", Summary: "Pair a robot with its one pupil",
			Action: people.ActDeviceManage, Body: "PupilRef", handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					PupilID string `json:"pupil_id"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return gin.H{"ok": true}, s.deps.Devices.Pair(c.Request.Context(), a, c.Param("device"), in.PupilID)
			}},
		{Method: "DELETE", Path: "/api/v1/devices/:device/credential", Summary: "Revoke a device (disconnects it at once)",
			Action: people.ActDeviceManage, handle: s.revokeDevice},
		{Method: "POST", Path: "/api/v1/devices/:device/commands", Summary: "Send a command and wait for the device's answer",
			Action: people.ActDeviceCommand, Body: "DeviceCommand", handle: s.commandDevice},
	}
}

type deviceView struct {
	devices.Device
	Live  devices.Status   `json:"live"`
	Media *media.LinkStats `json:"media,omitempty"`
}

func (s *Server) enrollDevice(c *gin.Context, _ people.Actor) (any, error) {
	var in struct {
		Code string `json:"code"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	var id, cred string
	err := s.redeeming(c.ClientIP(), "enrollment_code", func() (e error) {
		id, cred, e = s.deps.Devices.Enroll(c.Request.Context(), in.Code)
		return e
	})
	if err != nil {
		return nil, err
	}
	return gin.H{"device_id": id, "credential": cred}, nil
}

func (s *Server) listDevices(c *gin.Context, a people.Actor) (any, error) {
	list, err := s.deps.Devices.List(c.Request.Context(), a)
	if err != nil {
		return nil, err
	}
	out := make([]deviceView, 0, len(list))
	for _, d := range list {
		v := deviceView{Device: d, Live: s.deps.Hub.Status(d.ID)}
		if devices.SitsInASeat(d.Kind) {
			st := s.deps.SFU.Stats(d.ID)
			v.Media = &st
		}
		out = append(out, v)
	}
	return out, nil
}

// deviceEvents streams (server-sent events) the id of each visible device
// whose status changes, and a tick every 5 s for the media statistics, so
// consoles update without reloading.
func (s *Server) deviceEvents(c *gin.Context, a people.Actor) (any, error) {
	ch := s.deps.Hub.Subscribe()
	defer s.deps.Hub.Unsubscribe(ch)
	w := c.Writer
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	w.Flush()
	ctx := c.Request.Context()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, errHandled
		case <-s.stopping:
			return nil, errHandled
		case id := <-ch:
			if _, err := s.deps.Devices.Get(ctx, a, id); err != nil {
				continue // not this caller's to see
			}
			if _, err := w.WriteString("event: device\ndata: " + id + "\n\n"); err != nil {
				return nil, errHandled
			}
		case <-tick.C:
			if _, err := w.WriteString("event: tick\ndata: {}\n\n"); err != nil {
				return nil, errHandled
			}
		}
		w.Flush()
	}
}

func (s *Server) createDevice(c *gin.Context, a people.Actor) (any, error) {
	var in struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	d, code, err := s.deps.Devices.Create(c.Request.Context(), a, in.Kind, in.Name)
	if err != nil {
		return nil, err
	}
	return gin.H{"device": d, "enrollment_code": code, "expires_in_s": int(devices.EnrollmentLifetime.Seconds()),
		"enrollment_qr": s.enrollmentQR(c, code, d.Kind)}, nil
}

// enrollmentQR is a PNG data URL of a QR code for a device with a camera
// to scan instead of typing (enrollmentText says what it holds).
func (s *Server) enrollmentQR(c *gin.Context, code, kind string) string {
	png, err := qrcode.Encode(enrollmentText(s.baseURL(c), code, kind), qrcode.Medium, 256)
	if err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}

// enrollmentText is what the QR code holds: for a classroom station, the
// link that enrolls it, which any tablet's camera opens in the browser;
// for a robot, the server's address and the code for its own scanner.
func enrollmentText(base, code, kind string) string {
	if kind == devices.KindStation {
		return base + "/station#enroll=" + code
	}
	return "seatlink-enroll:" + base + "#" + code
}

func (s *Server) lendDevice(c *gin.Context, a people.Actor) (any, error) {
	var in struct {
		SchoolID string `json:"school_id"`
		From     string `json:"from"`
		To       string `json:"to"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	from, err1 := time.Parse(time.DateOnly, in.From)
	to, err2 := time.Parse(time.DateOnly, in.To)
	if err1 != nil || err2 != nil {
		return nil, &people.FieldError{Field: "from", Code: "bad_date", Message: "from and to are dates like 2026-09-01"}
	}
	return gin.H{"ok": true}, s.deps.Devices.Lend(c.Request.Context(), a, c.Param("device"), in.SchoolID, from, to.Add(24*time.Hour))
}

func (s *Server) revokeDevice(c *gin.Context, a people.Actor) (any, error) {
	id := c.Param("device")
	if err := s.deps.Devices.Revoke(c.Request.Context(), a, id); err != nil {
		return nil, err
	}
	// Disconnect at once: the control channel and, for a robot, its media.
	s.deps.Hub.Disconnect(id, devices.ReasonRevoked, "this device's credential was revoked")
	s.devConns.closeAll(id, wire.CodeRevoked, "this device's credential was revoked") // those that never said hello too
	s.deps.SFU.Evict(id, media.RoleRobot)
	return gin.H{"ok": true}, nil
}

func (s *Server) commandDevice(c *gin.Context, a people.Actor) (any, error) {
	var in struct {
		Command string            `json:"command"`
		Args    *wire.CommandArgs `json:"args"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	state, err := s.deps.Hub.Command(c.Request.Context(), a, c.Param("device"), in.Command, in.Args)
	if err != nil {
		return nil, err
	}
	return gin.H{"ok": true, "state": state}, nil
}
