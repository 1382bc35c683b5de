'use strict';
// The classroom station: a tablet or laptop in the absent pupil's seat.
// It is a device like a robot (docs/DEVICE-PROTOCOL.md): enrolled once with
// an enrollment code, then remembered; presence, heartbeats and the
// teacher's commands on the control channel; its camera and microphone
// into the pupil's link and the pupil's voice out of its speaker over the
// media link (docs/PROTOCOL.md, role robot). Its screen is the pupil's
// presence: eyes that look where the pupil turns the head, a white light
// for a raised hand, blue for listening only, asleep when no pupil is here.
(() => {
  const KEY = 'seatlink.station';
  const t = (key, vars) => window.seatlinkI18n.t(key, vars);
  const $ = (id) => document.getElementById(id);
  const ui = { status: $('status'), chat: $('chat'), enroll: $('enroll'), code: $('code'), enrollError: $('enroll-error'),
    camera: $('camera'), frame: $('frame'), voice: $('pupil-voice'), look: $('eye-look') };
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const started = Date.now();

  // What the station is doing: reported in heartbeats and acks.
  const st = { asleep: false, muted: false, volume: 80, pan: 0, tilt: 0, hand: false, whisper: false, passive: false,
    expression: 'neutral', pupil: false };
  let cred = localStorage.getItem(KEY) || '';
  let local = null;        // camera + microphone (null while asleep)
  let outVideo = null;     // the track published: the framed camera
  let ptz = false;         // the camera pans and tilts itself
  let ctlWS = null, mediaWS = null, pc = null, signedOut = false;
  let senders = {};        // the link's senders by kind
  let beat = null, ctlBackoff = 1000, mediaBackoff = 1000, earlyCloses = 0, iceTimer = null;
  let chatTimer = null;

  function say(text) { ui.status.textContent = text; }
  function show() {
    const b = document.body.dataset;
    b.asleep = st.asleep || !st.pupil ? '1' : '0';
    b.hand = st.hand ? '1' : '0';
    b.passive = st.passive ? '1' : '0';
    b.expression = st.expression;
    b.pan = String(st.pan);
    b.tilt = String(st.tilt);
    // The eyes look where the pupil points the head.
    ui.look.style.transform = 'translate(' + (st.pan / 180 * 40).toFixed(1) + 'px,' + (-st.tilt / 90 * 25).toFixed(1) + 'px)';
    ui.voice.volume = st.whisper ? Math.min(0.25, st.volume / 100) : st.volume / 100;
    ui.voice.muted = st.muted;
    if (!signedOut && document.body.dataset.state === 'ready') {
      say(st.asleep ? t('station.asleep') : st.pupil ? '' : t('station.waiting'));
    }
  }

  // ---- Enrollment: #enroll=CODE (provisioning many), or typed. ----
  async function enroll(code) {
    ui.enrollError.textContent = '';
    const r = await fetch('/api/v1/devices/enroll', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code }) });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) {
      const msg = r.status === 429 ? t('station.enroll.too_many') : t('station.enroll.bad_code');
      throw new Error(msg);
    }
    cred = body.credential;
    localStorage.setItem(KEY, cred);
  }

  function askForCode(why) {
    document.body.dataset.state = 'enroll';
    ui.enroll.hidden = false;
    say(why || '');
    ui.code.focus();
  }
  ui.enroll.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { await enroll(ui.code.value.trim()); ui.enroll.hidden = true; start(); } catch (e) { ui.enrollError.textContent = e.message; }
  });

  // signOut forgets the credential (the admin revoked the station).
  function signOut(why) {
    signedOut = true;
    localStorage.removeItem(KEY);
    cred = '';
    clearInterval(beat);
    for (const ws of [ctlWS, mediaWS]) if (ws) { ws.onclose = null; ws.close(); }
    ctlWS = mediaWS = null;
    closePeer();
    sleepMedia();
    st.pupil = false;
    show();
    askForCode(why);
  }

  // ---- Camera and microphone. ----
  async function wakeMedia() {
    if (local) return true;
    try {
      local = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 1280 }, height: { ideal: 720 }, pan: true, tilt: true, zoom: true },
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
    } catch (e) {
      say(e && e.name === 'NotAllowedError'
        ? t('station.media_blocked')
        : t('station.media_missing'));
      return false;
    }
    const cam = local.getVideoTracks()[0];
    const caps = cam && cam.getCapabilities ? cam.getCapabilities() : {};
    ptz = !!(caps.pan && caps.tilt);
    if (ptz) {
      outVideo = cam;
    } else {
      // A camera that cannot turn: a digital pan and zoom over its frame,
      // before it is encoded, so the pupil can still look at the board or
      // at a classmate.
      ui.camera.srcObject = new MediaStream([cam]);
      await ui.camera.play().catch(() => {});
      if (!outVideo || outVideo.readyState === 'ended') outVideo = ui.frame.captureStream(30).getVideoTracks()[0];
    }
    applyTurn();
    for (const t of local.getAudioTracks()) t.enabled = !st.muted;
    await publish();
    return true;
  }

  // sleepMedia stops the camera and microphone: the browser's own
  // indicator goes off, and the pupil's picture stops.
  function sleepMedia() {
    if (local) for (const t of local.getTracks()) t.stop();
    local = null;
    for (const s of Object.values(senders)) s.replaceTrack(null).catch(() => {});
  }

  function drawFrame() {
    const v = ui.camera, c = ui.frame, g = c.getContext('2d');
    if (local && !ptz && v.videoWidth > 0) {
      const zoom = 1.6;
      const w = v.videoWidth / zoom, h = v.videoHeight / zoom;
      const x = (v.videoWidth - w) / 2 * (1 + st.pan / 180);
      const y = (v.videoHeight - h) / 2 * (1 - st.tilt / 90);
      g.drawImage(v, x, y, w, h, 0, 0, c.width, c.height);
      document.body.dataset.window = [x, y, w, h].map((n) => Math.round(n)).join(',');
    }
    requestAnimationFrame(drawFrame);
  }
  requestAnimationFrame(drawFrame);
  // requestAnimationFrame stops in a hidden tab; the picture must not.
  setInterval(() => { if (document.hidden) drawFrame(); }, 1000 / 15);

  function applyTurn() {
    if (!local || !ptz) return;
    const cam = local.getVideoTracks()[0];
    const caps = cam.getCapabilities();
    const scale = (r, deg, max) => r.min + (r.max - r.min) * (deg + max) / (2 * max);
    cam.applyConstraints({ advanced: [{ pan: scale(caps.pan, st.pan, 180), tilt: scale(caps.tilt, st.tilt, 90) }] }).catch(() => {});
  }

  // ---- Control channel: presence, heartbeats, the teacher's commands. ----
  function deviceState() {
    return { asleep: st.asleep, muted: st.muted, volume: st.volume, pan: st.pan, tilt: st.tilt };
  }

  async function heartbeat() {
    const m = { type: 'heartbeat', uptime_s: Math.round((Date.now() - started) / 1000), charging: false, state: deviceState() };
    // How it is connected, and the camera and microphone in use.
    const c = navigator.connection;
    if (c) m.network = String(c.type && c.type !== 'unknown' ? c.type : (c.effectiveType || '')).slice(0, 64);
    if (local) {
      const v = local.getVideoTracks()[0], a = local.getAudioTracks()[0];
      if (v && v.label) m.camera = v.label.slice(0, 64);
      if (a && a.label) m.microphone = a.label.slice(0, 64);
    }
    if (navigator.getBattery) {
      try {
        const b = await navigator.getBattery();
        m.battery = Math.round(b.level * 100);
        m.charging = b.charging;
      } catch (e) { /* unknown: say nothing */ }
    }
    send(ctlWS, m);
  }

  function send(ws, m) { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m)); }

  function connectControl() {
    if (signedOut) return;
    let welcomed = false;
    const ws = new WebSocket(scheme + location.host + '/device/ws', ['seatlink-device', 'bearer.' + cred]);
    ctlWS = ws;
    ws.onmessage = (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      switch (m.type) {
        case 'welcome': {
          welcomed = true;
          earlyCloses = 0;
          ctlBackoff = 1000;
          const caps = ['camera', 'microphone', 'speaker', 'screen', ptz ? 'pan_tilt' : 'digital_pan'];
          send(ws, { type: 'hello', firmware: 'seatlink-station/1', capabilities: caps });
          clearInterval(beat);
          beat = setInterval(heartbeat, (m.heartbeat_interval_s || 10) * 1000);
          heartbeat();
          break;
        }
        case 'command': onCommand(ws, m); break;
        case 'error':
          if (m.code === 'revoked') signOut(t('station.revoked'));
          break;
        default: break;
      }
    };
    ws.onclose = () => {
      if (ws !== ctlWS || signedOut) return;
      clearInterval(beat);
      // Refused before the welcome: the credential is gone (revoked, or
      // this browser's storage came from elsewhere), unless the server is
      // down; ask /healthz which.
      if (!welcomed && ++earlyCloses >= 2) {
        fetch('/healthz').then((r) => {
          if (r.ok) signOut(t('station.not_set_up'));
          else setTimeout(connectControl, ctlBackoff);
        }).catch(() => setTimeout(connectControl, ctlBackoff));
        return;
      }
      say(t('station.reconnecting'));
      setTimeout(connectControl, ctlBackoff);
      ctlBackoff = Math.min(ctlBackoff * 2, 10000);
    };
  }

  async function onCommand(ws, m) {
    const args = m.args || {};
    let ok = true, error = '';
    switch (m.command) {
      case 'sleep': st.asleep = true; sleepMedia(); break;
      case 'wake': st.asleep = false; ok = await wakeMedia(); if (!ok) error = 'no_camera'; break;
      case 'mute': st.muted = true; if (local) for (const t of local.getAudioTracks()) t.enabled = false; break;
      case 'unmute': st.muted = false; if (local) for (const t of local.getAudioTracks()) t.enabled = true; break;
      case 'volume': st.volume = Math.max(0, Math.min(100, args.level | 0)); break;
      case 'pan_tilt':
        if (typeof args.pan === 'number') st.pan = Math.max(-180, Math.min(180, args.pan));
        if (typeof args.tilt === 'number') st.tilt = Math.max(-90, Math.min(90, args.tilt));
        applyTurn();
        break;
      default: ok = false; error = 'unsupported';
    }
    show();
    send(ws, { type: 'ack', id: m.id, ok, error: error || undefined, result: deviceState() });
  }

  // ---- Media link: the station is the robot of its pupil's link. ----
  function closePeer() {
    if (pc) { pc.onicecandidate = pc.ontrack = pc.ondatachannel = pc.onconnectionstatechange = null; pc.close(); }
    pc = null;
    senders = {};
  }

  // publish puts the current tracks on the link's senders (after a wake).
  // A station that joined while asleep has no senders yet: it joins again.
  async function publish() {
    if (!pc || !local) return;
    if (!senders.video) { if (mediaWS) mediaWS.close(); return; }
    const tracks = { video: outVideo, audio: local.getAudioTracks()[0] };
    for (const kind of ['video', 'audio']) {
      if (senders[kind] && senders[kind].track !== tracks[kind]) await senders[kind].replaceTrack(tracks[kind]).catch(() => {});
    }
  }

  function connectMedia() {
    if (signedOut) return;
    const ws = new WebSocket(scheme + location.host + '/ws');
    mediaWS = ws;
    ws.onopen = () => send(ws, { type: 'join', role: 'robot', token: cred, publish: { audio: true, video: true }, client: 'station-web/1' });
    ws.onmessage = async (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      switch (m.type) {
        case 'joined':
          mediaBackoff = 1000;
          closePeer();
          // The camera follows the pupil's line by itself: the server
          // offers goog-remb (beside transport-cc) on video, the browser's
          // answer keeps it, and the browser's send-side estimator takes
          // the REMB the server relays (the weakest pupil's line, less
          // room for sound: media/adapt.go) as its ceiling, so the encoder
          // lowers its bitrate, and then its frame rate and size, under
          // it. seatlinkStation.sending() shows it, and a test checks it.
          pc = new RTCPeerConnection({ iceServers: m.ice_servers || [] });
          senders = {};
          if (local) {
            // addTrack, so that the server's offer takes these senders up.
            const stream = new MediaStream([outVideo, local.getAudioTracks()[0]]);
            senders.video = pc.addTrack(outVideo, stream);
            senders.audio = pc.addTrack(local.getAudioTracks()[0], stream);
          }
          pc.onicecandidate = (e) => { if (e.candidate) send(ws, { type: 'candidate', candidate: e.candidate.toJSON() }); };
          pc.onconnectionstatechange = () => {
            // A network change or drop: after a moment, fresh ICE on the
            // same session (the pupil keeps the class); if ICE fails, rejoin.
            clearTimeout(iceTimer);
            if (pc.connectionState === 'disconnected') iceTimer = setTimeout(() => send(ws, { type: 'restart_ice' }), 3000);
            else if (pc.connectionState === 'failed') ws.close();
          };
          pc.ontrack = (e) => { if (e.track.kind === 'audio') { ui.voice.srcObject = new MediaStream([e.track]); ui.voice.play().catch(() => {}); } };
          pc.ondatachannel = (e) => { if (e.channel.label === 'control') e.channel.onmessage = (x) => onPupilCommand(e.channel, x.data); };
          st.pupil = (m.peers || []).includes('pupil');
          document.body.dataset.state = 'ready';
          show();
          break;
        case 'ice_servers':
          if (pc && m.ice_servers) pc.setConfiguration(Object.assign(pc.getConfiguration(), { iceServers: m.ice_servers }));
          break;
        case 'offer':
          if (!pc) return;
          await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
          await pc.setLocalDescription(await pc.createAnswer());
          send(ws, { type: 'answer', sdp: pc.localDescription.sdp });
          break;
        case 'candidate':
          if (pc && m.candidate && m.candidate.candidate) pc.addIceCandidate(m.candidate).catch(() => {});
          break;
        case 'peer_joined': if (m.role === 'pupil') { st.pupil = true; show(); } break;
        case 'peer_left':
          if (m.role === 'pupil') { st.pupil = false; st.hand = false; st.passive = false; st.whisper = false; st.expression = 'neutral'; show(); }
          break;
        case 'error':
          if (m.fatal && (m.code === 'revoked' || m.code === 'bad_token')) {
            signOut(t('station.revoked'));
          }
          break;
        default: break;
      }
    };
    ws.onclose = () => {
      if (ws !== mediaWS || signedOut) return;
      closePeer();
      st.pupil = false;
      show();
      say(t('station.reconnecting'));
      setTimeout(connectMedia, mediaBackoff);
      mediaBackoff = Math.min(mediaBackoff * 2, 10000);
    };
  }

  // The pupil's own commands, on the link's control channel.
  function onPupilCommand(dc, data) {
    let c;
    try { c = JSON.parse(data); } catch (e) { return; }
    if (c.type !== 'command') return;
    switch (c.command) {
      case 'raise_hand': st.hand = true; break;
      case 'lower_hand': st.hand = false; break;
      case 'turn':
        if (typeof c.pan === 'number') st.pan = Math.max(-180, Math.min(180, st.pan + c.pan));
        if (typeof c.tilt === 'number') st.tilt = Math.max(-90, Math.min(90, st.tilt + c.tilt));
        applyTurn();
        break;
      case 'whisper': st.whisper = !!c.on; break;
      case 'passive': st.passive = !!c.on; break;
      case 'expression': st.expression = String(c.expression || 'neutral'); break;
      case 'chat':
        ui.chat.textContent = String(c.text || '');
        ui.chat.hidden = false;
        clearTimeout(chatTimer);
        chatTimer = setTimeout(() => { ui.chat.hidden = true; }, 15000);
        break;
      default:
        dc.send(JSON.stringify({ type: 'ack', id: c.id, ok: false, error: 'bad_command' }));
        return;
    }
    show();
    dc.send(JSON.stringify({ type: 'ack', id: c.id, ok: true,
      state: { hand: st.hand, pan: st.pan, tilt: st.tilt, whisper: st.whisper, passive: st.passive, expression: st.expression } }));
  }

  // ---- Kiosk habits. ----
  let lock = null;
  async function keepAwake() {
    if (!('wakeLock' in navigator) || document.hidden) return;
    try { lock = await navigator.wakeLock.request('screen'); } catch (e) { lock = null; }
  }
  document.addEventListener('visibilitychange', () => { if (!document.hidden && !lock) keepAwake(); });
  document.addEventListener('click', () => {
    if (document.body.dataset.state === 'ready' && !document.fullscreenElement && document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(() => {});
    }
    ui.voice.play().catch(() => {});
  });

  async function start() {
    signedOut = false;
    document.body.dataset.state = 'starting';
    say(t('station.starting_camera'));
    if (!(await wakeMedia())) return;
    keepAwake();
    connectControl();
    connectMedia();
  }

  // For the tests: what the station receives of the pupil.
  window.seatlinkStation = {
    state: st,
    async inboundAudioBytes() {
      if (!pc) return 0;
      let n = 0;
      (await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') n += r.bytesReceived || 0; });
      return n;
    },
    cameraLive() { return !!local && local.getVideoTracks().some((t) => t.readyState === 'live'); },
    // remb: goog-remb negotiated on video; available: the browser's
    // estimate of what it may send (bit/s); videoBytes: sent so far.
    async sending() {
      const out = { remb: false, available: 0, videoBytes: 0 };
      if (!pc) return out;
      const sdp = (pc.currentLocalDescription && pc.currentLocalDescription.sdp) || '';
      const video = sdp.split(/\r\nm=/).find((sec) => sec.startsWith('video'));
      out.remb = !!video && /a=rtcp-fb:\d+ goog-remb/.test(video);
      (await pc.getStats()).forEach((r) => {
        if (r.type === 'candidate-pair' && r.nominated && r.availableOutgoingBitrate) out.available = r.availableOutgoingBitrate;
        if (r.type === 'outbound-rtp' && r.kind === 'video') out.videoBytes += r.bytesSent || 0;
      });
      return out;
    },
  };

  // #token=CREDENTIAL: a device whose credential is already known (the
  // demo's robot, or a credential moved from another station) takes it
  // without enrolling again. Either way the secret leaves the address.
  const m = /(?:^#|&)enroll=([A-Za-z0-9-]+)/.exec(location.hash);
  const given = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (given) {
    history.replaceState(null, '', location.pathname);
    cred = given[1];
    localStorage.setItem(KEY, cred);
    start();
  } else if (m) {
    history.replaceState(null, '', location.pathname); // the code is used once; keep it out of history
    enroll(m[1]).then(start).catch((e) => { askForCode(); ui.enrollError.textContent = e.message; });
  } else if (cred) {
    start();
  } else {
    askForCode();
  }
})();
