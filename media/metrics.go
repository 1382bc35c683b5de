package media

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the SFU's Prometheus instruments. Counters are atomic, so the
// forwarding path updates them without locks.
type Metrics struct {
	Rooms            prometheus.Gauge
	Peers            prometheus.Gauge
	PublishedTracks  prometheus.Gauge
	ForwardedTracks  prometheus.Gauge
	ForwardedPackets prometheus.Counter
	ForwardedBytes   prometheus.Counter
	NACKsReceived    prometheus.Counter
	NACKRetransmits  prometheus.Counter
	NACKsIgnored     prometheus.Counter
	PLIsSent         prometheus.Counter
	// REMBsSent are estimates of the pupils' lines relayed to publishers;
	// VideoPauses count video held back from a subscriber whose line
	// carries too little for it (audio goes on).
	REMBsSent         prometheus.Counter
	VideoPauses       prometheus.Counter
	ControlMessages   *prometheus.CounterVec
	DroppedRTPPackets prometheus.Counter
	// SubscriberRTCP counts RTCP feedback from subscribers by kind.
	SubscriberRTCP *prometheus.CounterVec

	rtcpRR, rtcpTWCC, rtcpREMB, rtcpPLI, rtcpNACK, rtcpOther prometheus.Counter
}

// NewMetrics creates the SFU metrics and registers them on reg (which may be
// nil, for tests that do not scrape).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Rooms: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "seatlink_sfu_rooms", Help: "Link rooms with at least one participant.",
		}),
		Peers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "seatlink_sfu_peers", Help: "Peer connections (robots and pupils) in rooms.",
		}),
		PublishedTracks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "seatlink_sfu_published_tracks", Help: "Incoming tracks being received from publishers.",
		}),
		ForwardedTracks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "seatlink_sfu_forwarded_tracks", Help: "Outgoing tracks (one per subscriber per published track).",
		}),
		ForwardedPackets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seatlink_sfu_forwarded_rtp_packets_total", Help: "RTP packets written to subscribers.",
		}),
		ForwardedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seatlink_sfu_forwarded_rtp_bytes_total", Help: "RTP bytes (header and payload) written to subscribers.",
		}),
		NACKsReceived: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seatlink_sfu_nacks_received_total", Help: "Sequence numbers NACKed by subscribers.",
		}),
		NACKRetransmits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seatlink_sfu_nack_retransmits_total", Help: "NACKed packets answered from the packet cache.",
		}),
		NACKsIgnored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seatlink_sfu_nacks_ignored_total", Help: "NACKed packets not resent: resent too often or too recently already.",
		}),
		PLIsSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seatlink_sfu_plis_sent_total", Help: "Picture loss indications sent to publishers.",
		}),
		REMBsSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seatlink_sfu_rembs_sent_total", Help: "Estimates of what subscribers' lines carry, relayed to publishers' encoders (REMB).",
		}),
		VideoPauses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seatlink_sfu_video_pauses_total", Help: "Times video was held back from a subscriber whose line was too weak for it, so its audio kept flowing.",
		}),
		ControlMessages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatlink_sfu_control_messages_total", Help: "Data channel control messages by kind and result.",
		}, []string{"kind", "result"}),
		DroppedRTPPackets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seatlink_sfu_dropped_rtp_packets_total", Help: "Incoming RTP packets that could not be parsed.",
		}),
		SubscriberRTCP: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatlink_sfu_subscriber_rtcp_packets_total",
			Help: "RTCP packets from subscribers by kind (receiver_report, twcc, remb, pli, nack, other).",
		}, []string{"kind"}),
	}
	m.rtcpRR = m.SubscriberRTCP.WithLabelValues("receiver_report")
	m.rtcpTWCC = m.SubscriberRTCP.WithLabelValues("twcc")
	m.rtcpREMB = m.SubscriberRTCP.WithLabelValues("remb")
	m.rtcpPLI = m.SubscriberRTCP.WithLabelValues("pli")
	m.rtcpNACK = m.SubscriberRTCP.WithLabelValues("nack")
	m.rtcpOther = m.SubscriberRTCP.WithLabelValues("other")
	if reg != nil {
		reg.MustRegister(m.Rooms, m.Peers, m.PublishedTracks, m.ForwardedTracks, m.ForwardedPackets,
			m.ForwardedBytes, m.NACKsReceived, m.NACKRetransmits, m.NACKsIgnored, m.PLIsSent, m.REMBsSent, m.VideoPauses, m.ControlMessages, m.DroppedRTPPackets, m.SubscriberRTCP)
	}
	return m
}
