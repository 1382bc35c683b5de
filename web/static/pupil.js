// The pupil's page: joins the link named by the token in the URL fragment,
// shows and plays the classroom, sends the pupil's microphone, and sends
// commands to the robot over the control data channel. Protocol:
// docs/PROTOCOL.md.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const ui = {
    state: $('state'), video: $('classroom'), unmute: $('unmute'), notice: $('notice'), robot: $('robot'), path: $('path'),
    hand: $('hand'), handLabel: $('hand-label'), whisper: $('whisper'), passive: $('passive'),
    codeForm: $('code-form'), code: $('code'), chatForm: $('chat-form'), chatText: $('chat-text'), chatSend: $('chat-send'),
    up: $('turn-up'), down: $('turn-down'), left: $('turn-left'), right: $('turn-right'),
  };
  const controls = [ui.hand, ui.whisper, ui.passive, ui.up, ui.down, ui.left, ui.right, ui.chatSend];

  // For tests and for people: the page's state in one word.
  // weak: the page says the connection is weak; held: the server holds
  // the picture back for it; path: which way the media comes ("direct
  // (UDP)", "relayed (TURN over TCP)", …).
  const api = {
    state: () => stateWord, lastAck: null, firstFrameAt: null, joinedAt: null, connectedAt: null,
    weak: false, held: () => videoHeld, path: '', pc: () => pc, trace: [],
  };
  // note keeps the last 200 connection events (Date.now(), what) for
  // tests and for whoever debugs a reconnect.
  function note(what) {
    api.trace.push([Date.now(), what]);
    if (api.trace.length > 200) api.trace.shift();
  }
  // States: connecting, in_class, reconnecting, ended, bad_link, need_code.
  window.seatlink = api;

  let stateWord = 'connecting';
  function setState(word, text) {
    stateWord = word;
    ui.state.textContent = text;
    ui.state.classList.toggle('in-class', word === 'in_class');
  }
  function notice(text) { ui.notice.textContent = text || ''; }
  function say(text) { ui.robot.textContent = text || ''; }

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
  const robot = { hand: false, whisper: false, passive: false };
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
      notice('Your microphone is off. You can still see and hear your class.');
      return;
    }
    try {
      mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (e) {
      mic = null;
      notice('Your microphone is off. You can still see and hear your class.');
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
    if (!keep && stateWord !== 'ended') setState('reconnecting', 'Reconnecting…');
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
    setState('reconnecting', 'Reconnecting…');
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
        if (msg.role === 'robot') say('');
        break;
      case 'peer_left':
        if (msg.role === 'robot') say('The classroom robot is not connected right now.');
        break;
      case 'error': onError(msg); break;
      case 'bye':
        if (msg.reason === 'replaced') stop('ended', 'Your class is open on another screen.');
        else if (msg.reason !== 'left') retry();
        break;
      default: break; // pong and anything newer
    }
  }

  function onError(msg) {
    if (!msg.fatal) return;
    switch (msg.code) {
      case 'bad_token':
        askForCode('This device is not signed in to a class yet.');
        break;
      case 'no_robot':
        setState('reconnecting', 'Your classroom robot is not set up yet.');
        retry(30000, true);
        break;
      case 'role_taken':
        setState('reconnecting', 'Your class is already open on another screen.');
        retry(10000, true);
        break;
      case 'access_removed':
        // A teacher switched this class off for this device (a link
        // revoked, the robot paired with someone else). Trying again shows
        // what is true now: a new code is needed, or no robot yet.
        setState('ended', 'This class has been closed on this device.');
        retry(3000, true);
        break;
      case 'shutting_down':
        setState('ended', 'Class has ended for now.');
        retry(5000, true);
        break;
      default:
        retry();
    }
  }

  function onJoined(msg) {
    resume = msg.resume || '';
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
      setState('reconnecting', 'Reconnecting…');
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
        setState('reconnecting', 'Reconnecting…');
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
    // Held back for a weak line, the class is still there: its sound.
    if (pc && pc.connectionState === 'connected' && (ui.video.videoWidth > 0 || videoHeld)) {
      setState('in_class', "You're in class");
    } else if (pc && pc.connectionState === 'connected') {
      setState('connecting', 'Connecting…');
    }
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
  const WEAK = 'Your connection is weak. You can still hear your class.';
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
    const path = local.candidateType === 'relay' ? 'relayed (TURN over ' + proto + ')' : 'direct (' + String(local.protocol || '').toUpperCase() + ')';
    if (path === api.path) return;
    api.path = path;
    if (ui.path) ui.path.textContent = path;
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
      say('Not connected to the robot yet.');
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

  ui.chatForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = ui.chatText.value.trim();
    if (!text) return;
    command('chat', { text });
    ui.chatText.value = '';
  });

  const friendly = {
    robot_not_connected: 'The classroom robot is not connected right now.',
    rate_limited: 'Slow down a little, then try again.',
    bad_command: "That didn't work. Try again.",
    not_allowed: "That didn't work. Try again.",
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
    if (!ack.ok) {
      say(friendly[ack.error] || "That didn't work. Try again.");
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
    ui.handLabel.textContent = robot.hand ? 'Lower my hand' : 'Raise my hand';
    ui.whisper.setAttribute('aria-pressed', String(robot.whisper));
    ui.passive.setAttribute('aria-pressed', String(robot.passive));
    if (mic) for (const t of mic.getAudioTracks()) t.enabled = !robot.passive;
    if (robot.hand !== was.hand) say(robot.hand ? 'Your hand is up. Your teacher can see it.' : 'Your hand is down.');
    else if (robot.whisper !== was.whisper) say(robot.whisper ? 'Whispering: the robot speaks quietly.' : 'Speaking normally.');
    else if (robot.passive !== was.passive) say(robot.passive ? 'Just listening. Your microphone is off.' : 'Taking part. Your microphone is on.');
    else if (sent === 'chat') say("Your message is on the robot's screen.");
    else if (sent === 'expression') say(robot.expression ? 'Your robot looks ' + robot.expression + '.' : "This robot has no face to show.");
    else say('The robot is looking ' + direction(s.pan || 0, s.tilt || 0) + '.');
  }

  function direction(pan, tilt) {
    const parts = [];
    if (tilt > 0) parts.push('up'); else if (tilt < 0) parts.push('down');
    if (pan > 0) parts.push('right'); else if (pan < 0) parts.push('left');
    return parts.length ? parts.join(' and ') : 'straight ahead';
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

  const adultText = 'This browser is signed in as a member of staff or a parent. ' +
    'Open the link on the pupil\'s own device, or sign out first.';

  function askForCode(text) {
    stopped = true;
    cleanup();
    setState('need_code', text || 'Type the code your teacher gave you.');
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
      notice('That code did not work. Check it, or ask your teacher for a new one.');
    } else {
      notice('Could not reach your class. Check the internet connection and try again.');
    }
  });

  async function start(fromLink) {
    stopped = false;
    notice('');
    setState('connecting', 'Connecting…');
    if (fromLink) {
      const result = await signIn({ token });
      if (result === 'adult') {
        stop('adult', adultText);
        return;
      }
      if (result === 'expired') {
        stop('bad_link', 'This join link has expired or is not right. Ask your teacher for a new one.');
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

  setControls(false);
  start(token !== '');
})();
