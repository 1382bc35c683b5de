package devices

import (
	"context"
	"strconv"
	"time"

	"seatlink/people"
)

// Alert kinds.
const (
	AlertBatteryLow        = "battery_low"
	AlertEnrollmentExpired = "enrollment_expired"
)

// LowBattery is the battery level (percent) below which a device alerts.
const LowBattery = 20

// Alert is something about a device that staff should act on.
type Alert struct {
	DeviceID string    `json:"device_id"`
	Device   string    `json:"device"`
	Kind     string    `json:"kind"`
	Message  string    `json:"message"`
	Since    time.Time `json:"since"`
}

// Alerts lists the alerts of the devices the actor may see: a battery
// below LowBattery while not charging, and a device whose enrollment code
// expired unused. (Offline or asleep during a timetabled lesson of its
// pupil comes with timetables.)
func (h *Hub) Alerts(ctx context.Context, a people.Actor) ([]Alert, error) {
	list, err := h.reg.List(ctx, a)
	if err != nil {
		return nil, err
	}
	out := []Alert{}
	for _, d := range list {
		if d.Revoked {
			continue
		}
		if st := h.Status(d.ID); st.Online && st.Telemetry != nil && st.Telemetry.Battery != nil && *st.Telemetry.Battery < LowBattery && !st.Telemetry.Charging {
			out = append(out, Alert{DeviceID: d.ID, Device: d.Name, Kind: AlertBatteryLow, Since: st.Telemetry.At,
				Message: d.Name + ": battery low (" + strconv.Itoa(*st.Telemetry.Battery) + "%), please charge it"})
		}
		if !d.Enrolled {
			var exp, used int64
			err := h.reg.db.Q().QueryRow(ctx, `SELECT expires_at, used_at FROM enrollment_codes WHERE device_id = ?
				ORDER BY created_at DESC LIMIT 1`, d.ID).Scan(&exp, &used)
			if err == nil && used == 0 && exp <= h.reg.ms() {
				out = append(out, Alert{DeviceID: d.ID, Device: d.Name, Kind: AlertEnrollmentExpired, Since: time.UnixMilli(exp).UTC(),
					Message: d.Name + ": its enrollment code expired unused; issue a new one"})
			}
		}
	}
	return out, nil
}
