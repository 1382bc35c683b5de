// The pupil's page: joins the link named by the token in the URL fragment,
// shows and plays the classroom, sends the pupil's microphone, and sends
// commands to the robot over the control data channel. Protocol:
// docs/PROTOCOL.md.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const { t } = window.seatlinkI18n;
  const ui = {
    state: $('state'), stateText: $('state-text'), video: $('classroom'), unmute: $('unmute'), notice: $('notice'), path: $('path'),
    hand: $('hand'), handLabel: $('hand-label'), whisper: $('whisper'), passive: $('passive'),
    codeForm: $('code-form'), code: $('code'), chatForm: $('chat-form'), chatText: $('chat-text'), chatSend: $('chat-send'),
    chatLeft: $('chat-left'), up: $('turn-up'), down: $('turn-down'), left: $('turn-left'), right: $('turn-right'),
    head: $('head'), eyes: $('head-eyes'),
  };
  const controls = [ui.hand, ui.whisper, ui.passive, ui.up, ui.down, ui.left, ui.right, ui.chatSend];

  // For tests and for people: the page's state in one word.
  // weak: the page says the connection is weak; held: the server holds
  // the picture back for it; path: which way the media comes ("direct
  // (UDP)", "relayed (TURN over TCP)", …).
  const api = {
    state: () => stateWord, lastAck: null, firstFrameAt: null, joinedAt: null, connectedAt: null,
    weak: false, held: () => videoHeld, path: '', pc: () => pc, trace: [],
    // checkInAfter: the time in class after which the end of the lesson
    // (the robot put to sleep or switched off) asks "How did today feel?".
    checkInAfter: 10 * 60 * 1000,
  };
  // note keeps the last 200 connection events (Date.now(), what) for
  // tests and for whoever debugs a reconnect.
  function note(what) {
    api.trace.push([Date.now(), what]);
    if (api.trace.length > 200) api.trace.shift();
  }
  // States: connecting, in_class, asleep (the robot is switched off or
  // asleep), reconnecting, ended, bad_link, need_code, adult.
  window.seatlink = api;

  let stateWord = 'connecting';
  function setState(word, text) {
    const was = stateWord;
    stateWord = word;
    if (was !== word) document.dispatchEvent(new CustomEvent('seatlink:state', { detail: { word, was } }));
    ui.stateText.textContent = text;
    ui.state.classList.toggle('in-class', word === 'in_class');
    ui.state.classList.toggle('asleep', word === 'asleep');
  }
  function notice(text) { ui.notice.textContent = text || ''; }
  // Each control's words appear beside it: the hand's under the hand,
  // the face's under the faces, the message's under the message box.
  const saidAt = {
    hand: $('hand-said'), modes: $('modes-said'), turn: $('turn-said'), faces: $('faces-said'), chat: $('chat-said'),
  };
  const groupOf = {
    raise_hand: 'hand', lower_hand: 'hand', whisper: 'modes', passive: 'modes', turn: 'turn', expression: 'faces', chat: 'chat',
  };
  function say(group, text) {
    if (saidAt[group]) saidAt[group].textContent = text || '';
  }

  let token = decodeURIComponent(location.hash.replace(/^#/, ''));

  let mic = null;           // the pupil's microphone stream, if allowed
  let ws = null;
  let pc = null;
  let ctrl = null;           // the control data channel
  let resume = '';
  let backoff = 1000;
  let retryTimer = null;
  let pingTimer = null;
  let lastMessageAt = 0; // when the server last said anything (performance.now)
  let connectedSince = 0; // when ICE last became connected
  let restartTimer = null;
  let stopped = false;
  let seq = 0;
  let negotiation = Promise.resolve();
  let videoHeld = false;     // the server holds the picture back (its notice)
  let stalled = false;       // under 2 pictures a second for 2 s while sound arrives
  const robot = { hand: false, whisper: false, passive: false, pan: 0, tilt: 0 };
  // The robot: whether it is in the class's media, and what its device
  // says of itself (the server's robot message).
  let robotHere = true;
  let device = { online: false, asleep: false, muted: false };
  const videoStream = new MediaStream();
  const audioEl = new Audio();
  audioEl.autoplay = true;

  function setControls(enabled) {
    for (const b of controls.concat(Array.from(document.querySelectorAll('.faces button')))) b.disabled = !enabled;
  }

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  async function getMic() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      notice(t('pupil.notice.no_mic'));
      return;
    }
    try {
      mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (e) {
      mic = null;
      notice(t('pupil.notice.no_mic'));
    }
  }

  function cleanup() {
    dropProbe();
    gatherWait = null;
    clearInterval(pingTimer);
    clearTimeout(restartTimer);
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(); } catch (e) { /* already closed */ }
      ws = null;
    }
    if (pc) {
      pc.ontrack = pc.onicecandidate = pc.onconnectionstatechange = pc.oniceconnectionstatechange = pc.ondatachannel = null;
      pc.close();
      pc = null;
    }
    ctrl = null;
    setControls(false);
    negotiation = Promise.resolve();
    videoHeld = stalled = false; // a new session starts afresh
    showWeak();
  }

  function socket() {
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    return new WebSocket(scheme + location.host + '/ws');
  }

  function connect() {
    cleanup();
    const sock = socket();
    note('ws connect');
    sock.onopen = () => {
      note('ws open');
      join(sock);
    };
    use(sock);
  }

  // join joins (or resumes) the session on sock, which is open. The
  // device is signed in by its session cookie (set from the join link or
  // code), so the join needs no token.
  function join(sock) {
    const msg = { type: 'join', role: 'pupil', publish: { audio: !!mic, video: false }, client: 'pupil-web/1' };
    if (resume) msg.resume = resume;
    sock.send(JSON.stringify(msg));
    clearInterval(pingTimer);
    pingTimer = setInterval(() => send({ type: 'ping' }), 10000);
  }

  // use makes sock the session's WebSocket.
  function use(sock) {
    ws = sock;
    sock.onmessage = (ev) => {
      if (sock !== ws) return;
      lastMessageAt = performance.now();
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.type !== 'candidate') note('ws ' + msg.type + (msg.id ? ' ' + msg.id : ''));
      onMessage(msg);
    };
    sock.onclose = () => { note('ws close' + (sock === ws ? '' : ' (old)')); if (sock === ws) retry(); };
  }

  // retry reconnects after a delay; keep leaves the state's words as they
  // are (they say why we wait).
  function retry(delay, keep) {
    if (stopped) return;
    note('retry ' + (delay || backoff));
    cleanup();
    if (!keep && stateWord !== 'ended') setState('reconnecting', t('pupil.state.reconnecting'));
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay || backoff);
    backoff = Math.min(backoff * 2, 10000);
  }

  // retryWhenGathering reconnects as soon as a throwaway peer connection
  // gathers a UDP candidate (looking every 100 ms), or 5 s after the move.
  let gatherWait = null;
  function retryWhenGathering() {
    if (stopped) return;
    note('retry when gathering');
    cleanup();
    setState('reconnecting', t('pupil.state.reconnecting'));
    clearTimeout(retryTimer);
    const mine = {};
    gatherWait = mine;
    (async () => {
      while (gatherWait === mine && performance.now() - movedAt < 5000 && !(await gathers())) {
        await new Promise((r) => setTimeout(r, 100));
      }
      if (gatherWait !== mine || stopped) return;
      gatherWait = null;
      connect();
    })();
  }

  async function gathers() {
    const t = new RTCPeerConnection();
    try {
      t.createDataChannel('gather');
      const found = new Promise((resolve) => {
        t.onicecandidate = (ev) => {
          if (!ev.candidate) resolve(false); // gathering ended with none
          else if (/ udp /i.test(ev.candidate.candidate)) resolve(true);
        };
        setTimeout(() => resolve(false), 300);
      });
      await t.setLocalDescription(await t.createOffer());
      return await found;
    } catch (e) {
      return false;
    } finally {
      t.close();
    }
  }

  function stop(word, text) {
    stopped = true;
    cleanup();
    setState(word, text);
  }

  function onMessage(msg) {
    switch (msg.type) {
      case 'joined': onJoined(msg); break;
      case 'ice_servers':
        // Before an ICE restart's offer: a fresh TURN credential for the new path.
        if (pc && msg.ice_servers) pc.setConfiguration(Object.assign(pc.getConfiguration(), { iceServers: msg.ice_servers }));
        break;
      case 'offer':
        negotiation = negotiation.then(() => answer(msg.sdp)).catch(() => retry());
        break;
      case 'candidate':
        if (pc && msg.candidate && msg.candidate.candidate) {
          negotiation = negotiation.then(() => pc && pc.addIceCandidate(msg.candidate)).catch(() => {});
        }
        break;
      case 'peer_joined':
        if (msg.role === 'robot') { robotHere = true; updateInClass(); }
        break;
      case 'peer_left':
        if (msg.role === 'robot') { robotHere = false; updateInClass(); }
        break;
      case 'robot':
        if (msg.robot) { device = msg.robot; updateInClass(); showMuted(); }
        break;
      case 'error': onError(msg); break;
      case 'bye':
        if (msg.reason === 'replaced') stop('ended', t('pupil.state.replaced'));
        else if (msg.reason !== 'left') retry();
        break;
      default: break; // pong and anything newer
    }
  }

  function onError(msg) {
    if (!msg.fatal) return;
    switch (msg.code) {
      case 'bad_token':
        askForCode(t('pupil.state.not_signed_in'));
        break;
      case 'no_robot':
        setState('reconnecting', t('pupil.state.no_robot'));
        retry(30000, true);
        break;
      case 'role_taken':
        setState('reconnecting', t('pupil.state.role_taken'));
        retry(10000, true);
        break;
      case 'access_removed':
        // A teacher switched this class off for this device (a link
        // revoked, the robot paired with someone else). Trying again shows
        // what is true now: a new code is needed, or no robot yet.
        setState('ended', t('pupil.state.closed'));
        retry(3000, true);
        break;
      case 'shutting_down':
        // The server is restarting (an update): the class comes back by
        // itself, so never say it has ended.
        setState('reconnecting', t('pupil.state.back_soon'));
        retry(2000, true);
        break;
      default:
        retry();
    }
  }

  function onJoined(msg) {
    resume = msg.resume || '';
    robotHere = (msg.peers || []).includes('robot');
    note('joined');
    document.dispatchEvent(new CustomEvent('seatlink:joined'));
    api.joinedAt = performance.now();
    pc = new RTCPeerConnection({ iceServers: msg.ice_servers || [] });
    if (mic) {
      for (const track of mic.getTracks()) {
        track.enabled = !robot.passive;
        pc.addTrack(track, mic);
      }
    }
    pc.ontrack = (ev) => attach(ev.track);
    pc.onicecandidate = (ev) => {
      if (!ev.candidate) return;
      note('candidate ' + ev.candidate.candidate.split(' ').slice(4, 8).join(' '));
      send({ type: 'candidate', candidate: ev.candidate.toJSON() });
      // A new address of our own while in class: the device moved to
      // another network (Wi-Fi to 4G). Check the way back at once rather
      // than wait seconds for the old path to be declared dead.
      if (pc.connectionState === 'connected' && ev.candidate.candidate.includes(' host ') &&
          performance.now() - connectedSince > 2000) checkPath(0);
    };
    pc.onconnectionstatechange = () => { note('pc ' + pc.connectionState); onConnectionState(); };
    pc.oniceconnectionstatechange = () => note('ice ' + pc.iceConnectionState);
    pc.ondatachannel = (ev) => {
      if (ev.channel.label !== 'control') return;
      const dc = ev.channel;
      dc.onopen = () => { ctrl = dc; setControls(true); };
      dc.onclose = () => { if (ctrl === dc) { ctrl = null; setControls(false); } };
      dc.onmessage = (m) => onControl(m.data);
    };
  }

  async function answer(sdp) {
    if (!pc) return;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    send({ type: 'answer', sdp: pc.localDescription.sdp });
    note('answer sent');
  }

  // checkPath, after wait ms, asks for fresh ICE and checks that the
  // WebSocket lives: after a move to a new network it is as dead as the
  // media, and a new one, resuming this session, is the quick way back.
  function checkPath(wait) {
    clearTimeout(restartTimer);
    restartTimer = setTimeout(() => {
      const asked = performance.now();
      note('checkPath');
      send({ type: 'restart_ice' });
      send({ type: 'ping', id: 'path' });
      restartTimer = setTimeout(() => { if (lastMessageAt < asked) retry(250); }, 1000);
    }, wait);
  }

  // A move to another network (Wi-Fi to 4G, the router renumbered) shows
  // first as the media stopping: the old address is gone, and with it the
  // way of the media and of the WebSocket. Chromium announces no new
  // candidate for it and calls the connection disconnected only about 7 s
  // later. So the page counts the packets it receives, five times a
  // second, and when media that flowed stops for STALL_MS it pings the
  // old WebSocket and opens a new one beside it (probe). If the new one
  // opens while the old one has not answered and the media is still
  // stopped, the device has moved: the session resumes on the new socket,
  // and the server replaces the old peer connection with one that
  // connects in a few round trips. If the old one answers (a robot that
  // went quiet), or the media comes back first (an outage that ended),
  // the new socket is closed and nothing else changes.
  const STALL_MS = 450;
  const rx = { count: 0, at: 0, since: 0, probed: false, vp: 0, vf: 0 };
  let probing = null; // { sock, timer }
  let movedAt = -1e9;  // when the page last found it had moved
  setInterval(async () => {
    if (stopped || !pc || pc.connectionState !== 'connected' && pc.connectionState !== 'disconnected') {
      rx.count = rx.at = rx.since = rx.vp = rx.vf = 0;
      return;
    }
    let stats;
    try { stats = await pc.getStats(); } catch (e) { return; }
    let count = 0, vp = 0, vf = 0;
    stats.forEach((r) => {
      if (r.type === 'inbound-rtp') count += r.packetsReceived || 0;
      if (r.type === 'inbound-rtp' && r.kind === 'video') { vp += r.packetsReceived || 0; vf += r.framesDecoded || 0; }
    });
    if (vp && !rx.vp) note('first video packet');
    if (vf && !rx.vf) note('first frame decoded');
    rx.vp = vp; rx.vf = vf;
    const now = performance.now();
    if (count > rx.count) {
      if (!rx.since || now - rx.at > 2 * STALL_MS) rx.since = now;
      rx.count = count;
      rx.at = now;
      rx.probed = false;
      if (probing) { note('media back: probe dropped'); dropProbe(); } // an outage that ended
    } else if (rx.since && now - rx.at >= STALL_MS && rx.at - rx.since >= 300 && !rx.probed) {
      rx.probed = true;
      probe();
    }
  }, 150);
  if (navigator.connection) navigator.connection.addEventListener('change', () => note('network change'));
  window.addEventListener('online', () => note('online'));
  window.addEventListener('offline', () => note('offline'));

  function mediaStalled() { return !rx.at || performance.now() - rx.at >= STALL_MS; }

  function dropProbe() {
    if (!probing) return;
    const p = probing;
    probing = null;
    clearTimeout(p.timer);
    p.sock.onopen = p.sock.onclose = p.sock.onerror = null;
    try { p.sock.close(); } catch (e) { /* already closed */ }
  }

  function probe() {
    if (probing || !ws || ws.readyState !== WebSocket.OPEN) return;
    const asked = performance.now();
    note('media stopped: probe');
    send({ type: 'ping', id: 'path' });
    const sock = socket();
    probing = { sock, timer: setTimeout(dropProbe, 15000) };
    sock.onclose = sock.onerror = () => { if (probing && probing.sock === sock) dropProbe(); };
    sock.onopen = () => {
      if (!probing || probing.sock !== sock) return;
      if (lastMessageAt >= asked || !mediaStalled()) {
        note('probe: the old socket lives');
        dropProbe();
        return;
      }
      note('probe: moved; resume on the new socket');
      movedAt = performance.now();
      clearTimeout(probing.timer);
      probing = null;
      sock.onopen = sock.onclose = sock.onerror = null;
      clearTimeout(retryTimer);
      cleanup();
      setState('reconnecting', t('pupil.state.reconnecting'));
      use(sock);
      join(sock);
    };
  }

  function onConnectionState() {
    if (!pc) return;
    switch (pc.connectionState) {
      case 'connected':
        if (!api.connectedAt) api.connectedAt = performance.now();
        connectedSince = performance.now();
        backoff = 1000;
        clearTimeout(restartTimer);
        updateInClass();
        break;
      case 'disconnected':
        setState('reconnecting', t('pupil.state.reconnecting'));
        // Give the network a moment, then ask for fresh ICE.
        checkPath(1000);
        break;
      case 'failed':
        // Just after a move the browser still gathers on its old address
        // (Chromium on Linux tells WebRTC of a new address 2 s after it
        // came): the new peer connection fails at once. Join again as
        // soon as the browser can gather a candidate, rather than after
        // the usual backoff.
        if (performance.now() - movedAt < 5000) retryWhenGathering();
        else retry();
        break;
      default: break;
    }
  }

  function updateInClass() {
    if (!pc || pc.connectionState !== 'connected') return;
    if (!robotHere || device.asleep) {
      // Switched off, or put to sleep by the teacher: say so, not a black box.
      setState('asleep', t('pupil.state.asleep'));
    } else if (ui.video.videoWidth > 0 || videoHeld) {
      // Held back for a weak line, the class is still there: its sound.
      setState('in_class', t('pupil.state.in_class'));
    } else {
      setState('connecting', t('pupil.state.connecting'));
    }
  }

  // The teacher has turned the robot's sound off: the pupil is not heard
  // and hears nothing, and is told so.
  let mutedShown = false;
  function showMuted() {
    const muted = device.online && device.muted && !device.asleep;
    if (muted === mutedShown) return;
    mutedShown = muted;
    if (muted) notice(t('pupil.notice.muted'));
    else if (ui.notice.textContent === t('pupil.notice.muted')) notice('');
  }

  // The state follows the media, whatever order the events came in: after
  // a reconnect the video element may go on playing a new track and fire
  // no 'playing' or 'resize' at all, so twice a second the page looks
  // whether the picture is moving while the connection is up.
  let lastVideoTime = -1;
  setInterval(() => {
    const t = ui.video.currentTime;
    const moving = t !== lastVideoTime && ui.video.readyState >= 2 && ui.video.videoWidth > 0;
    lastVideoTime = t;
    if (!stopped && moving && stateWord !== 'in_class' && pc && pc.connectionState === 'connected') updateInClass();
  }, 500);

  // The robot's camera goes to the (muted) video element, its microphone to
  // an audio element, so that a browser refusing to autoplay sound never
  // stops the picture.
  function attach(track) {
    if (track.kind === 'video') {
      for (const old of videoStream.getVideoTracks()) videoStream.removeTrack(old);
      videoStream.addTrack(track);
      if (ui.video.srcObject !== videoStream) ui.video.srcObject = videoStream;
      ui.video.play().catch(() => {});
    } else {
      audioEl.srcObject = new MediaStream([track]);
      audioEl.play().then(() => { ui.unmute.hidden = true; }).catch(() => { ui.unmute.hidden = false; });
    }
    track.onended = () => {
      if (track.kind === 'video') videoStream.removeTrack(track);
    };
  }

  // A weak line: the server holds the picture back so that the sound
  // keeps going (its notice), or the picture all but stops while the
  // sound still comes (the page's own statistics). Say so, in the notice
  // line, instead of a silent freeze; clear it when pictures flow again.
  // A robot asleep sends neither picture nor sound: that is not a weak
  // line.
  const WEAK = t('pupil.notice.weak');
  let noticeBefore = '';
  function showWeak() {
    const connected = !!pc && pc.connectionState === 'connected';
    const weak = connected && (videoHeld || (stalled && stateWord === 'in_class'));
    if (weak === api.weak) return;
    api.weak = weak;
    if (weak) {
      noticeBefore = ui.notice.textContent === WEAK ? '' : ui.notice.textContent;
      notice(WEAK);
    } else if (ui.notice.textContent === WEAK) {
      notice(noticeBefore);
    }
  }

  let last = null, slowSeconds = 0;
  setInterval(async () => {
    if (!pc || pc.connectionState !== 'connected') {
      last = null;
      slowSeconds = 0;
      stalled = false;
      return;
    }
    let stats;
    try { stats = await pc.getStats(); } catch (e) { return; }
    if (!pc) return;
    const now = { frames: 0, audioBytes: 0, pair: null };
    stats.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') now.frames += r.framesDecoded || 0;
      if (r.type === 'inbound-rtp' && r.kind === 'audio') now.audioBytes += r.bytesReceived || 0;
      if (r.type === 'transport' && r.selectedCandidatePairId) now.pair = stats.get(r.selectedCandidatePairId);
    });
    if (!now.pair) { // Firefox names the pair in use on the pair itself
      stats.forEach((r) => { if (r.type === 'candidate-pair' && r.selected) now.pair = r; });
    }
    showPath(now.pair && stats.get(now.pair.localCandidateId));
    if (last) {
      const fps = now.frames - last.frames;
      const sound = now.audioBytes > last.audioBytes;
      slowSeconds = fps < 2 && sound ? slowSeconds + 1 : 0;
      if (slowSeconds >= 2) stalled = true;
      else if (fps >= 5 || !sound) stalled = false;
      showWeak();
    }
    last = now;
  }, 1000);

  // showPath names the way the media comes, from the local candidate of
  // the pair in use: straight from the server, or through a TURN relay
  // (and over which protocol the page reaches the relay).
  function showPath(local) {
    if (!local) return;
    const proto = String(local.relayProtocol || local.protocol || '').toUpperCase();
    const relayed = local.candidateType === 'relay';
    const path = relayed ? 'relayed (TURN over ' + proto + ')' : 'direct (' + String(local.protocol || '').toUpperCase() + ')';
    if (path === api.path) return;
    api.path = path; // for tests and support, in one language
    if (ui.path) ui.path.textContent = t(relayed ? 'pupil.path.relayed' : 'pupil.path.direct', { proto: relayed ? proto : String(local.protocol || '').toUpperCase() });
  }

  ui.video.addEventListener('playing', updateInClass);
  ui.video.addEventListener('resize', updateInClass);
  if (ui.video.requestVideoFrameCallback) {
    ui.video.requestVideoFrameCallback(() => {
      api.firstFrameAt = performance.now();
      updateInClass();
    });
  }
  ui.unmute.addEventListener('click', () => {
    audioEl.play().then(() => { ui.unmute.hidden = true; }).catch(() => {});
  });

  const pending = new Map(); // command ids awaiting their ack, by id
  function command(name, fields) {
    if (!ctrl || ctrl.readyState !== 'open') {
      say(groupOf[name], t('pupil.said.not_connected'));
      return;
    }
    seq += 1;
    pending.set(String(seq), name);
    if (pending.size > 50) pending.delete(pending.keys().next().value);
    ctrl.send(JSON.stringify(Object.assign({ type: 'command', id: String(seq), command: name }, fields || {})));
  }

  // The pupil chooses the face their robot or station shows.
  const faceButtons = Array.from(document.querySelectorAll('.faces button[data-expression]'));
  for (const b of faceButtons) b.addEventListener('click', () => command('expression', { expression: b.dataset.expression }));

  // The message box counts down from 280 characters.
  const chatMax = Number(ui.chatText.getAttribute('maxlength')) || 280;
  function countDown() {
    const left = chatMax - ui.chatText.value.length;
    ui.chatLeft.textContent = t('pupil.chat.left', { n: left });
    ui.chatLeft.classList.toggle('few', left <= 20);
  }
  ui.chatText.addEventListener('input', () => { countDown(); say('chat', ''); });
  countDown();

  ui.chatForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = ui.chatText.value.trim();
    if (!text) return;
    command('chat', { text });
    ui.chatText.value = '';
    countDown();
  });

  // Faces and the message box share one place: one shows at a time.
  const tabs = [[$('tab-faces'), $('panel-faces')], [$('tab-chat'), ui.chatForm]];
  for (const [tab, panel] of tabs) {
    tab.addEventListener('click', () => {
      for (const [other, otherPanel] of tabs) {
        const open = other === tab;
        other.setAttribute('aria-expanded', String(open));
        otherPanel.hidden = !open;
      }
      if (panel === ui.chatForm) ui.chatText.focus();
    });
  }

  const friendly = {
    robot_not_connected: 'pupil.said.robot_away',
    rate_limited: 'pupil.said.slow_down',
  };

  function onControl(data) {
    let ack;
    try { ack = JSON.parse(data); } catch (e) { return; }
    if (ack.type === 'notice') {
      // The server holds the picture back from a line too weak for
      // picture and sound together, and says when it sends it again.
      if (ack.notice === 'video_paused') videoHeld = true;
      if (ack.notice === 'video_resumed') { // give the picture its chance
        videoHeld = stalled = false;
        slowSeconds = 0;
      }
      updateInClass();
      showWeak();
      return;
    }
    if (ack.type !== 'ack') return;
    api.lastAck = ack;
    const sent = pending.get(ack.id);
    pending.delete(ack.id);
    const group = groupOf[sent] || 'hand';
    if (!ack.ok) {
      say(group, t(friendly[ack.error] || 'pupil.said.failed'));
      return;
    }
    const s = ack.state || {};
    const was = Object.assign({}, robot);
    robot.hand = !!s.hand;
    robot.whisper = !!s.whisper;
    robot.passive = !!s.passive;
    robot.expression = s.expression || '';
    for (const b of faceButtons) b.setAttribute('aria-pressed', String(b.dataset.expression === robot.expression));
    ui.hand.setAttribute('aria-pressed', String(robot.hand));
    ui.handLabel.textContent = t(robot.hand ? 'pupil.hand.lower' : 'pupil.hand.raise');
    robot.pan = s.pan || 0;
    robot.tilt = s.tilt || 0;
    showHead();
    ui.whisper.setAttribute('aria-pressed', String(robot.whisper));
    ui.passive.setAttribute('aria-pressed', String(robot.passive));
    if (mic) for (const t of mic.getAudioTracks()) t.enabled = !robot.passive;
    // Each answer is about the command that was sent, said beside it.
    switch (sent) {
      case 'raise_hand': case 'lower_hand':
        say('hand', t(robot.hand ? 'pupil.said.hand_up' : 'pupil.said.hand_down'));
        break;
      case 'whisper':
        say('modes', t(robot.whisper ? 'pupil.said.whisper_on' : 'pupil.said.whisper_off'));
        break;
      case 'passive':
        say('modes', t(robot.passive ? 'pupil.said.passive_on' : 'pupil.said.passive_off'));
        break;
      case 'chat':
        say('chat', t('pupil.said.chat_shown'));
        break;
      case 'expression':
        say('faces', robot.expression ? t('pupil.said.face_' + robot.expression) : t('pupil.said.no_face'));
        break;
      case 'turn':
        say('turn', direction(robot.pan, robot.tilt));
        break;
      default: break;
    }
  }

  // direction says where the robot's head points, in words.
  function direction(pan, tilt) {
    const v = tilt > 0 ? 'up' : (tilt < 0 ? 'down' : '');
    const h = pan > 0 ? 'right' : (pan < 0 ? 'left' : '');
    if (!v && !h) return t('pupil.head.ahead');
    return t('pupil.head.' + (v && h ? v + '_' + h : v || h));
  }

  // showHead draws where the robot's head points: its eyes move within
  // the head, as far as the robot turns.
  function showHead() {
    const x = 20 + Math.max(-1, Math.min(1, robot.pan / 90)) * 9;
    const y = 20 - Math.max(-1, Math.min(1, robot.tilt / 45)) * 9;
    ui.eyes.setAttribute('cx', x.toFixed(1));
    ui.eyes.setAttribute('cy', y.toFixed(1));
    ui.head.setAttribute('aria-label', direction(robot.pan, robot.tilt));
  }

  const actions = {
    hand: () => command(robot.hand ? 'lower_hand' : 'raise_hand'),
    whisper: () => command('whisper', { on: !robot.whisper }),
    passive: () => command('passive', { on: !robot.passive }),
    up: () => command('turn', { tilt: 10 }),
    down: () => command('turn', { tilt: -10 }),
    left: () => command('turn', { pan: -15 }),
    right: () => command('turn', { pan: 15 }),
  };
  for (const name of Object.keys(actions)) ui[name].addEventListener('click', actions[name]);

  const keys = {
    h: 'hand', w: 'whisper', p: 'passive',
    ArrowUp: 'up', ArrowDown: 'down', ArrowLeft: 'left', ArrowRight: 'right',
  };
  document.addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat) return;
    const t = ev.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    const name = keys[ev.key] || keys[ev.key.toLowerCase()];
    if (!name) return;
    ev.preventDefault();
    actions[name]();
  });

  // signIn trades a join link token or a typed code for this device's
  // session cookie, so the pupil is not asked again on this device.
  async function signIn(body) {
    let r;
    try {
      r = await fetch('/api/v1/pupil/session', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
    } catch (e) {
      return 'offline';
    }
    if (r.ok) return 'ok';
    if (r.status === 409) return 'adult'; // this browser is signed in as staff or a parent
    return r.status === 410 || r.status === 400 ? 'expired' : 'error';
  }

  const adultText = t('pupil.state.adult');

  function askForCode(text) {
    stopped = true;
    cleanup();
    setState('need_code', text || t('pupil.code.label'));
    ui.codeForm.hidden = false;
    ui.code.focus();
  }

  ui.codeForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const result = await signIn({ code: ui.code.value });
    if (result === 'ok') {
      ui.codeForm.hidden = true;
      start(false);
    } else if (result === 'adult') {
      notice(adultText);
    } else if (result === 'expired') {
      notice(t('pupil.notice.bad_code'));
    } else {
      notice(t('pupil.notice.offline'));
    }
  });

  async function start(fromLink) {
    stopped = false;
    notice('');
    setState('connecting', t('pupil.state.connecting'));
    if (fromLink) {
      const result = await signIn({ token });
      if (result === 'adult') {
        stop('adult', adultText);
        return;
      }
      if (result === 'expired') {
        stop('bad_link', t('pupil.state.bad_link'));
        return;
      }
      if (result === 'ok') {
        // The device is remembered now: the link can leave the address bar.
        token = '';
        history.replaceState(null, '', location.pathname);
      }
    }
    if (!mic) await getMic();
    connect();
  }

  // The plan and help sheets.
  for (const [button, sheet] of [['open-plan', 'plan-dialog'], ['open-help', 'help-dialog']]) {
    $(button).addEventListener('click', () => $(sheet).showModal());
  }

  setControls(false);
  start(token !== '');
})();
