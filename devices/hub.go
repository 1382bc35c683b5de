package devices

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"seatlink/internal/wire"
	"seatlink/people"
)

// Command errors.
var (
	ErrOffline        = errors.New("devices: the device is not connected")
	ErrCommandTimeout = errors.New("devices: the device did not acknowledge in time")
)

// CommandError is a device's refusal of a command, with its error code.
type CommandError struct{ Code string }

func (e *CommandError) Error() string { return "devices: the device refused the command: " + e.Code }

// CommandTimeout bounds the wait for a device's acknowledgement.
const CommandTimeout = 5 * time.Second

// Conn is one connected device's control channel, as the hub sees it
// (signaling implements it over a WebSocket). Send must not block.
type Conn interface {
	Send(m wire.DeviceMessage) bool
	Close(code, reason string)
}

// HubMetrics are the devices' Prometheus instruments.
type HubMetrics struct {
	Online     prometheus.Gauge
	Heartbeats prometheus.Counter
	Commands   *prometheus.CounterVec
	BadFrames  prometheus.Counter
}

// NewHubMetrics registers the devices' metrics on reg (nil: unregistered).
func NewHubMetrics(reg prometheus.Registerer) *HubMetrics {
	m := &HubMetrics{
		Online: prometheus.NewGauge(prometheus.GaugeOpts{Name: "seatlink_devices_online",
			Help: "Devices with an open control channel."}),
		Heartbeats: prometheus.NewCounter(prometheus.CounterOpts{Name: "seatlink_devices_heartbeats_total",
			Help: "Heartbeats received from devices."}),
		Commands: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "seatlink_devices_commands_total",
			Help: "Commands sent to devices, by command and result (ok, refused, offline, timeout)."}, []string{"command", "result"}),
		BadFrames: prometheus.NewCounter(prometheus.CounterOpts{Name: "seatlink_devices_bad_messages_total",
			Help: "Device messages refused by the decoder."}),
	}
	if reg != nil {
		reg.MustRegister(m.Online, m.Heartbeats, m.Commands, m.BadFrames)
	}
	return m
}

// Status is what the hub knows of a device right now.
type Status struct {
	Online    bool             `json:"online"`
	Since     time.Time        `json:"since,omitempty"`
	State     wire.DeviceState `json:"state"`
	Telemetry *Telemetry       `json:"telemetry,omitempty"`
}

type live struct {
	conn    Conn
	since   time.Time
	state   wire.DeviceState
	tel     *Telemetry
	pending map[string]chan wire.DeviceMessage
}

// Hub tracks connected devices and carries commands to them.
type Hub struct {
	reg      *Registry
	log      *slog.Logger
	metrics  *HubMetrics
	Interval time.Duration // the heartbeat interval devices are asked to keep

	// SleepHook, if set before the hub is used, is told when a robot
	// paired with a pupil goes to sleep or wakes: engagement evidence.
	SleepHook func(pupilID, deviceID string, asleep bool, at time.Time)

	mu    sync.Mutex
	conns map[string]*live
	seq   uint64
	subs  map[chan string]struct{}
}

// NewHub returns a hub; heartbeat is the interval devices are told to use.
func NewHub(reg *Registry, heartbeat time.Duration, m *HubMetrics, log *slog.Logger) *Hub {
	if heartbeat <= 0 {
		heartbeat = 10 * time.Second
	}
	if m == nil {
		m = NewHubMetrics(nil)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Hub{reg: reg, log: log, metrics: m, Interval: heartbeat, conns: map[string]*live{}, subs: map[chan string]struct{}{}}
}

// Metrics returns the hub's instruments (the signaling side counts bad frames).
func (h *Hub) Metrics() *HubMetrics { return h.metrics }

// Subscribe returns a channel that receives the id of each device whose
// status changes, for live pages; cancel with Unsubscribe. Slow readers
// miss updates rather than block the hub.
func (h *Hub) Subscribe() chan string {
	ch := make(chan string, 64)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch
}

// Unsubscribe stops updates on ch.
func (h *Hub) Unsubscribe(ch chan string) {
	h.mu.Lock()
	delete(h.subs, ch)
	h.mu.Unlock()
}

func (h *Hub) notify(id string) { // with h.mu held
	for ch := range h.subs {
		select {
		case ch <- id:
		default:
		}
	}
}

// Attach registers a device's control channel after its hello. An older
// channel of the same device is closed as replaced.
func (h *Hub) Attach(ctx context.Context, d Device, c Conn, hello wire.DeviceMessage) {
	h.mu.Lock()
	old := h.conns[d.ID]
	h.conns[d.ID] = &live{conn: c, since: time.Now(), pending: map[string]chan wire.DeviceMessage{}}
	if old == nil {
		h.metrics.Online.Inc()
	}
	h.notify(d.ID)
	h.mu.Unlock()
	if old != nil {
		old.conn.Close("replaced", "a newer connection of this device replaced this one")
	}
	if err := h.reg.SetPresence(ctx, d.ID, "online", ReasonConnected, hello.Firmware); err != nil {
		h.log.Error("presence", "device", d.ID, "err", err)
	}
	h.log.Info("device online", "device", d.ID, "firmware", hello.Firmware)
}

// Detach records that c, a device's channel, has closed and why.
func (h *Hub) Detach(d Device, c Conn, reason string) {
	h.mu.Lock()
	cur := h.conns[d.ID]
	if cur == nil || cur.conn != c {
		h.mu.Unlock()
		return // already replaced
	}
	delete(h.conns, d.ID)
	h.metrics.Online.Dec()
	for _, ch := range cur.pending {
		close(ch)
	}
	h.notify(d.ID)
	h.mu.Unlock()
	if err := h.reg.SetPresence(context.Background(), d.ID, "offline", reason, ""); err != nil {
		h.log.Error("presence", "device", d.ID, "err", err)
	}
	h.log.Info("device offline", "device", d.ID, "reason", reason)
}

// Heartbeat records a device's telemetry.
func (h *Hub) Heartbeat(ctx context.Context, d Device, m wire.DeviceMessage) error {
	h.metrics.Heartbeats.Inc()
	t := Telemetry{At: time.Now().UTC().Truncate(time.Millisecond), Battery: m.Battery, Charging: m.Charging,
		TemperatureC: m.TemperatureC, WifiDBm: m.WifiDBm, UptimeS: *m.UptimeS,
		Network: m.Network, Camera: m.Camera, Microphone: m.Microphone}
	h.mu.Lock()
	var changed bool
	if l := h.conns[d.ID]; l != nil {
		if m.State != nil {
			changed = l.setState(*m.State)
		}
		t.Asleep = l.state.Asleep
		l.tel = &t
		h.notify(d.ID)
	}
	h.mu.Unlock()
	h.sleepChanged(d, changed, t.Asleep)
	return h.reg.RecordTelemetry(ctx, d.ID, t)
}

// Ack hands a device's acknowledgement to the command waiting for it.
func (h *Hub) Ack(d Device, m wire.DeviceMessage) {
	h.mu.Lock()
	l := h.conns[d.ID]
	if l == nil {
		h.mu.Unlock()
		return
	}
	if ch, ok := l.pending[m.ID]; ok {
		delete(l.pending, m.ID)
		ch <- m
	}
	var changed bool
	if m.Result != nil {
		changed = l.setState(*m.Result)
		h.notify(d.ID)
	}
	h.mu.Unlock()
	if m.Result != nil {
		h.sleepChanged(d, changed, m.Result.Asleep)
	}
}

// setState stores a device's state and says whether it fell asleep or woke.
func (l *live) setState(st wire.DeviceState) bool {
	changed := l.state.Asleep != st.Asleep
	l.state = st
	return changed
}

// sleepChanged tells the hook (outside the hub's lock) of a paired robot
// falling asleep or waking.
func (h *Hub) sleepChanged(d Device, changed, asleep bool) {
	if changed && h.SleepHook != nil && d.PupilID != "" {
		h.SleepHook(d.PupilID, d.ID, asleep, time.Now())
	}
}

// Status returns a device's live status.
func (h *Hub) Status(deviceID string) Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.conns[deviceID]
	if l == nil {
		return Status{}
	}
	return Status{Online: true, Since: l.since, State: l.state, Telemetry: l.tel}
}

// Command sends a teacher's or admin's command and waits for the device's
// acknowledgement. An offline device fails at once with ErrOffline; a
// silent one with ErrCommandTimeout after CommandTimeout.
func (h *Hub) Command(ctx context.Context, a people.Actor, deviceID, command string, args *wire.CommandArgs) (wire.DeviceState, error) {
	d, err := h.reg.get(ctx, deviceID)
	if err != nil {
		return wire.DeviceState{}, err
	}
	if scope, ok := people.ScopeOf(a.Role, people.ActDeviceCommand); ok && scope == people.ScopeLA {
		err = h.reg.people.Authorize(ctx, a, people.ActDeviceCommand, people.Target{LAID: d.LAID})
	} else {
		err = h.reg.people.Authorize(ctx, a, people.ActDeviceCommand, target(d))
	}
	if err != nil {
		return wire.DeviceState{}, err
	}
	if err := wire.CheckCommand(command, args); err != nil {
		return wire.DeviceState{}, &people.FieldError{Field: "command", Code: "bad_command", Message: err.Error()}
	}
	result := func(r string) { h.metrics.Commands.WithLabelValues(command, r).Inc() }
	h.mu.Lock()
	l := h.conns[deviceID]
	if l == nil {
		h.mu.Unlock()
		result("offline")
		return wire.DeviceState{}, ErrOffline
	}
	h.seq++
	id := "cmd-" + strconv.FormatUint(h.seq, 10)
	ch := make(chan wire.DeviceMessage, 1)
	l.pending[id] = ch
	conn := l.conn
	h.mu.Unlock()
	forget := func() {
		h.mu.Lock()
		if cur := h.conns[deviceID]; cur != nil {
			delete(cur.pending, id)
		}
		h.mu.Unlock()
	}
	if !conn.Send(wire.DeviceMessage{Type: wire.DevCommand, ID: id, Command: command, Args: args}) {
		forget()
		result("offline")
		return wire.DeviceState{}, ErrOffline
	}
	timer := time.NewTimer(CommandTimeout)
	defer timer.Stop()
	select {
	case ack, ok := <-ch:
		if !ok {
			result("offline")
			return wire.DeviceState{}, ErrOffline
		}
		if !*ack.OK {
			result("refused")
			return wire.DeviceState{}, &CommandError{Code: ack.Error}
		}
		result("ok")
		h.log.Info("device command", "device", deviceID, "command", command, "by", a.ID)
		if ack.Result != nil {
			return *ack.Result, nil
		}
		return h.Status(deviceID).State, nil
	case <-timer.C:
		forget()
		result("timeout")
		return wire.DeviceState{}, ErrCommandTimeout
	case <-ctx.Done():
		forget()
		return wire.DeviceState{}, fmt.Errorf("devices: command abandoned: %w", ctx.Err())
	}
}

// Disconnect closes a device's control channel (after a revocation).
func (h *Hub) Disconnect(deviceID, code, reason string) {
	h.mu.Lock()
	l := h.conns[deviceID]
	h.mu.Unlock()
	if l != nil {
		l.conn.Close(code, reason)
	}
}

// Close disconnects every device (server shutdown).
func (h *Hub) Close() {
	h.mu.Lock()
	conns := make([]Conn, 0, len(h.conns))
	for _, l := range h.conns {
		conns = append(conns, l.conn)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.Close("shutting_down", "the server is stopping")
	}
}
