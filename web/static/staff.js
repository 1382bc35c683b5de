// The staff console: sign-in, then what the signed-in role may do. The
// server checks every call; this page only hides what would be refused.
// Its parts: Today (the check-ins on return waiting for the key adult, and
// the teacher's lessons with the robot and pupil, live),
// Robots, Pupils and join links, links to the register, plans and
// caseload pages, and Setup (LA admins). Every word comes from the page's
// catalogue (i18n.js); a result is shown beside what caused it.
'use strict';

(() => {
  const C = window.seatlinkConsole;
  const I = window.seatlinkI18n;
  const t = (key, vars) => I.t(key, vars);
  // tk is the text of a key made of a prefix and a name.
  const tk = (prefix, name, vars) => I.t(prefix + name, vars);
  const $ = (id) => document.getElementById(id);
  let me = null;
  let schools = [];
  let pupils = [];
  let staffList = [];
  let devices = [];
  const classroomNames = {};

  function fillSelect(cls, items, label) {
    for (const sel of document.querySelectorAll(cls)) {
      sel.textContent = '';
      for (const it of items) sel.appendChild(C.el('option', label(it), { value: it.id }));
    }
  }

  // when is a moment as the language writes it: "Tuesday 3 November, 09:05".
  const when = (iso) => t('staff.when', { date: I.date(iso, { weekday: 'short', day: 'numeric', month: 'short' }), time: I.time(iso) });

  // ---- Pupils and their join links: filtered, a page at a time. ----
  const PAGE = 25;
  let pupilPage = 0;
  let openLinks = ''; // the pupil whose join links are open

  function shownPupils() {
    const q = $('pupil-filter').value.trim().toLowerCase();
    return q ? pupils.filter((p) => (p.display_name + ' ' + p.pupil_number).toLowerCase().includes(q)) : pupils;
  }

  function renderPupils() {
    const list = shownPupils();
    const pages = Math.max(1, Math.ceil(list.length / PAGE));
    pupilPage = Math.min(pupilPage, pages - 1);
    const body = $('pupil-rows');
    body.textContent = '';
    for (const p of list.slice(pupilPage * PAGE, (pupilPage + 1) * PAGE)) {
      const btn = C.el('button', t('staff.links.open'), { type: 'button', 'data-pupil': p.id, 'aria-expanded': 'false',
        'aria-controls': 'links-' + p.id, 'aria-label': t('staff.links.open_for', { name: p.display_name }) });
      btn.addEventListener('click', () => toggleLinks(p, btn));
      const records = document.createElement('span');
      records.className = 'records';
      records.append(C.el('a', t('staff.pupils.register_link'), { href: '/ewo#pupil=' + encodeURIComponent(p.id),
        'aria-label': t('staff.pupils.register_for', { name: p.display_name }) }), ' ',
      C.el('a', t('staff.pupils.plans_link'), { href: '/plan?pupil=' + encodeURIComponent(p.id),
        'aria-label': t('staff.pupils.plans_for', { name: p.display_name }) }));
      const tr = C.row([p.pupil_number, p.display_name, p.year_group, btn, records]);
      tr.dataset.pupilRow = p.id;
      body.appendChild(tr);
      if (openLinks === p.id) toggleLinks(p, btn);
    }
    $('pupils-count').textContent = list.length === pupils.length ? t('staff.pupils.count', { n: pupils.length })
      : t('staff.pupils.count_filtered', { n: list.length, total: pupils.length });
    $('pupils-prev').hidden = pupilPage === 0;
    $('pupils-next').hidden = pupilPage >= pages - 1;
  }

  async function loadPupils() {
    pupils = await C.api('GET', '/api/v1/pupils');
    renderPupils();
    fillSelect('.pupil-select', pupils, (p) => p.pupil_number + ' ' + p.display_name);
  }

  // toggleLinks opens (or closes) a pupil's join links in a row below
  // theirs: one pupil's at a time.
  function toggleLinks(p, btn) {
    const old = document.querySelector('tr.links-row');
    const wasOpen = old && old.dataset.pupil === p.id && btn.getAttribute('aria-expanded') === 'true';
    if (old) {
      old.remove();
      for (const b of document.querySelectorAll('#pupil-rows button[aria-expanded=true]')) b.setAttribute('aria-expanded', 'false');
    }
    if (wasOpen) { openLinks = ''; return; }
    openLinks = p.id;
    btn.setAttribute('aria-expanded', 'true');
    const tr = document.createElement('tr');
    tr.className = 'links-row';
    tr.dataset.pupil = p.id;
    const td = C.el('td', null, { colspan: '5' });
    const panel = C.el('div', null, { class: 'links-panel', id: 'links-' + p.id, role: 'group', 'aria-labelledby': 'links-title-' + p.id });
    panel.appendChild(C.el('h3', t('staff.links.heading', { name: p.display_name }), { id: 'links-title-' + p.id }));
    panel.appendChild(C.el('div', null, { class: 'links-list' }));
    const issueBtn = C.el('button', t('staff.links.issue'), { type: 'button', id: 'issue-link' });
    issueBtn.addEventListener('click', () => issue(p, panel));
    panel.appendChild(C.el('p')).appendChild(issueBtn);
    panel.appendChild(C.el('div', null, { id: 'issued', class: 'issued', hidden: '' }));
    panel.appendChild(C.el('p', null, { id: 'links-result', class: 'result', role: 'status', tabindex: '-1' }));
    td.appendChild(panel);
    tr.appendChild(td);
    btn.closest('tr').after(tr);
    showLinks(p, panel).catch((e) => C.result($('links-result'), e.message, true));
  }

  // linkState is a join link's state in words, and whether it still works.
  function linkState(l) {
    if (l.revoked) return t('staff.links.revoked');
    if (!l.active) return t('staff.links.expired', { when: when(l.expires_at) });
    return t('staff.links.active', { when: when(l.expires_at) });
  }

  function linkItem(p, l, panel) {
    const li = C.el('li', null, { class: 'link', 'data-link': l.id, 'data-active': l.active ? '1' : '0' });
    li.appendChild(C.el('strong', t('staff.links.issued_on', { when: when(l.created_at) })));
    li.appendChild(C.el('span', ' · ' + linkState(l)));
    const facts = C.el('ul', null, { class: 'link-facts' });
    if (l.in_class) facts.appendChild(C.el('li', t('staff.links.in_class', { name: p.display_name }), { class: 'in-class' }));
    facts.appendChild(C.el('li', l.devices.length ? t('staff.links.devices', { n: l.devices.length,
      when: when(l.devices.map((d) => d.signed_in_at).sort().pop()) }) : t('staff.links.no_devices')));
    facts.appendChild(C.el('li', l.last_used_at ? t('staff.links.last_used', { when: when(l.last_used_at) }) : t('staff.links.never_used')));
    li.appendChild(facts);
    if (l.active) {
      const rv = C.el('button', t('staff.links.revoke'), { type: 'button', 'data-action': 'revoke-link',
        'aria-label': t('staff.links.revoke_named', { when: when(l.created_at) }) });
      rv.addEventListener('click', () => revoke(p, [l.id], panel));
      li.appendChild(rv);
    }
    return li;
  }

  // showLinks lists a pupil's join links: working ones first, the revoked
  // and expired ones folded away.
  async function showLinks(p, panel) {
    const links = await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(p.id) + '/join-links');
    const box = panel.querySelector('.links-list');
    box.textContent = '';
    const active = links.filter((l) => l.active);
    const old = links.filter((l) => !l.active);
    if (!active.length) box.appendChild(C.el('p', t('staff.links.none_active')));
    const ul = C.el('ul', null, { class: 'links' });
    for (const l of active) ul.appendChild(linkItem(p, l, panel));
    box.appendChild(ul);
    if (old.length) {
      const det = C.el('details');
      det.appendChild(C.el('summary', t('staff.links.old', { n: old.length })));
      const ol = C.el('ul', null, { class: 'links' });
      for (const l of old) ol.appendChild(linkItem(p, l, panel));
      det.appendChild(ol);
      box.appendChild(det);
    }
    return links;
  }

  async function revoke(p, ids, panel) {
    try {
      for (const id of ids) await C.api('DELETE', '/api/v1/join-links/' + encodeURIComponent(id));
      await showLinks(p, panel);
      C.result($('links-result'), t('staff.links.revoked_done', { n: ids.length, name: p.display_name }));
    } catch (e) { C.result($('links-result'), C.problem(e), true); }
  }

  async function issue(p, panel) {
    try {
      const r = await C.api('POST', '/api/v1/pupils/' + encodeURIComponent(p.id) + '/join-links', { lifetime_hours: 168 });
      const links = await showLinks(p, panel);
      const box = $('issued');
      box.textContent = '';
      box.appendChild(C.el('p', t('staff.links.issued_for', { name: p.display_name })));
      box.appendChild(C.el('a', r.url, { href: r.url, id: 'issued-url' }));
      const code = C.el('p', t('staff.links.code') + ' ');
      code.appendChild(C.el('code', r.code, { id: 'issued-code' }));
      box.appendChild(code);
      box.hidden = false;
      // The older links still work: offer to revoke them.
      const older = links.filter((l) => l.active && l.id !== r.join_link.id).map((l) => l.id);
      const nodes = [];
      if (older.length) {
        const rv = C.el('button', t('staff.links.revoke_older', { n: older.length }), { type: 'button', id: 'revoke-older' });
        rv.addEventListener('click', () => revoke(p, older, panel));
        nodes.push(rv);
      }
      C.result($('links-result'), older.length ? t('staff.links.issued_older', { n: older.length, name: p.display_name })
        : t('staff.links.issued_done'), false, nodes);
    } catch (e) { C.result($('links-result'), C.problem(e), true); }
  }

  // ---- Robots: status, battery, network, pupil, one-click actions;
  // updated live from the server's event stream. ----
  let refreshTimer = null;

  function status(d) {
    if (!d.live.online) {
      const why = { heartbeat_timeout: 'no_heartbeat', connection_lost: 'connection_lost', revoked: 'revoked',
        clean_close: 'switched_off', replaced: 'replaced' }[d.presence_reason];
      return ['offline', why ? t('staff.robots.offline_why', { why: tk('staff.robots.why.', why) }) : t('staff.state.offline')];
    }
    return d.live.state.asleep ? ['asleep', t('staff.state.asleep')] : ['online', t('staff.state.online')];
  }

  async function command(d, cmd) {
    try {
      await C.api('POST', '/api/v1/devices/' + encodeURIComponent(d.id) + '/commands', { command: cmd });
      C.result($('robot-result'), tk('staff.robots.done.', cmd, { name: d.name }));
    } catch (e) { C.result($('robot-result'), t('staff.robots.failed', { name: d.name, why: e.message }), true); }
    scheduleRefresh();
  }

  function pupilName(id) {
    const p = pupils.find((x) => x.id === id);
    return p ? p.display_name : '';
  }

  async function loadRobots() {
    devices = await C.api('GET', '/api/v1/devices');
    const body = $('robot-rows');
    // Redrawing moves no focus: remember which button had it.
    const focused = document.activeElement && body.contains(document.activeElement) ? document.activeElement : null;
    const focusKey = focused ? [focused.closest('tr').dataset.device, focused.dataset.action] : null;
    body.textContent = '';
    const alerts = $('alerts');
    alerts.textContent = '';
    // Admins see the LA's whole pool; teachers their school's robots and classroom stations.
    const robots = devices.filter((d) => me.role === 'admin' || ((d.kind === 'robot' || d.kind === 'station') && d.school_id === me.school_id));
    for (const th of document.querySelectorAll('.admin-only')) th.hidden = me.role !== 'admin';
    $('robots-empty').hidden = robots.length > 0;
    // A long list (an LA's whole pool) can be filtered by any of its words.
    $('robot-tools').hidden = robots.length <= 8;
    const q = $('robot-filter').value.trim().toLowerCase();
    let shown = 0;
    for (const d of robots) {
      const [cls, label] = status(d);
      const chip = C.el('span', label, { class: 'chip ' + cls, 'data-status': cls });
      const tel = d.live.telemetry;
      let battery = '–';
      if (tel && tel.battery != null) {
        battery = I.number(tel.battery / 100, { style: 'percent' }) + (tel.charging ? ' ' + t('staff.robots.charging_paren') : '');
      } else if (tel && tel.charging) battery = t('staff.robots.charging');
      const rm = d.media && d.media.robot;
      let net = rm && rm.connected ? t('staff.robots.net', { ms: rm.rtt_ms < 1 ? '<1' : I.number(Math.round(rm.rtt_ms)),
        loss: I.number(rm.loss_pct, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) }) : '–';
      if (tel && tel.network) net = tel.network + (net === '–' ? '' : ', ' + net);
      const named = d.pupil_id && pupilName(d.pupil_id);
      let pupil = t('staff.robots.not_paired');
      if (d.media && d.media.pupil && d.media.pupil.connected) pupil = named ? t('staff.robots.connected_named', { name: named }) : t('staff.robots.connected');
      else if (d.pupil_id) pupil = named ? t('staff.robots.not_connected_named', { name: named }) : t('staff.robots.not_connected');
      const actions = document.createElement('span');
      const button = (action, words) => {
        const b = C.el('button', words, { type: 'button', 'data-action': action, 'aria-label': words + ': ' + d.name });
        b.addEventListener('click', () => command(d, action));
        return b;
      };
      if (d.live.online) {
        const asleep = d.live.state.asleep;
        actions.append(button(asleep ? 'wake' : 'sleep', t(asleep ? 'staff.robots.wake' : 'staff.robots.sleep')));
        const muted = d.live.state.muted;
        actions.append(button(muted ? 'unmute' : 'mute', t(muted ? 'staff.robots.unmute' : 'staff.robots.mute')));
      }
      if (me.role === 'admin' && !d.revoked) {
        const rv = C.el('button', t('staff.robots.revoke'), { type: 'button', 'data-action': 'revoke',
          'aria-label': t('staff.robots.revoke') + ': ' + d.name });
        rv.addEventListener('click', async () => {
          try {
            await C.api('DELETE', '/api/v1/devices/' + encodeURIComponent(d.id) + '/credential');
            C.result($('robot-result'), t('staff.robots.revoked_done', { name: d.name }));
          } catch (e) { C.result($('robot-result'), e.message, true); }
          scheduleRefresh();
        });
        actions.append(rv);
      }
      const cells = [d.kind === 'robot' ? d.name : t('staff.robots.station_name', { name: d.name }), chip, battery, net, pupil];
      if (me.role === 'admin') {
        const school = schools.find((x) => x.id === d.school_id);
        cells.push(school && d.loan_ends ? t('staff.robots.loan', { school: school.name, date: I.date(new Date(Date.parse(d.loan_ends) - 1),
          { day: 'numeric', month: 'short', year: 'numeric' }) }) : t('staff.robots.pool'));
      }
      cells.push(actions);
      const tr = C.row(cells);
      tr.setAttribute('data-device', d.id);
      if (q && !tr.textContent.toLowerCase().includes(q)) continue;
      shown++;
      body.appendChild(tr);
    }
    $('robots-count').textContent = q ? t('staff.robots.count_filtered', { n: shown, total: robots.length }) : '';
    if (focusKey) {
      const again = body.querySelector('tr[data-device="' + CSS.escape(focusKey[0]) + '"] button' +
        (focusKey[1] ? '[data-action="' + CSS.escape(focusKey[1]) + '"]' : ''));
      const any = again || body.querySelector('tr[data-device="' + CSS.escape(focusKey[0]) + '"] button');
      if (any) any.focus(); else $('robot-result').focus();
    }
    for (const al of await C.api('GET', '/api/v1/devices/alerts')) alerts.appendChild(C.el('li', al.message));
    const sel = $('setup-device');
    if (sel) {
      const chosen = sel.value;
      sel.textContent = '';
      for (const d of devices.filter((x) => !x.revoked)) sel.appendChild(C.el('option', d.name, { value: d.id }));
      if (chosen) sel.value = chosen;
    }
    renderToday();
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => loadRobots().catch(() => {}), 200);
  }

  function watchDevices() {
    const es = new EventSource('/api/v1/devices/events');
    es.addEventListener('device', scheduleRefresh);
    es.addEventListener('tick', scheduleRefresh);
  }

  // ---- Today: each of the teacher's classrooms, its lessons, and per
  // lesson the robot's state and whether the pupil is in, kept live from
  // the devices' events (the same as the Robots table's). ----
  let today = null;
  let todayAt = 0;
  const lastSeen = {}; // device → "state/in", for announcing changes

  async function loadToday() {
    today = await C.api('GET', '/api/v1/today');
    todayAt = Date.now();
    $('today-date').textContent = I.date(new Date());
    renderToday();
  }

  // seatNow is a seat as it is now: from the devices list the live events
  // keep current, else as Today loaded it.
  function seatNow(seat) {
    const d = devices.find((x) => x.id === seat.device_id);
    if (!d) return { state: seat.state, in: seat.pupil_in, pupil: seat.pupil_id };
    return { state: status(d)[0], in: !!(d.media && d.media.pupil && d.media.pupil.connected), pupil: d.pupil_id || '' };
  }

  // stale says whether the devices now differ from what Today loaded (a
  // robot placed, moved or paired since): then Today is loaded again.
  function stale() {
    if (!today) return false;
    const rooms = new Set(today.classrooms.map((r) => r.id));
    const had = new Set();
    for (const r of today.classrooms) for (const s of r.seats) had.add(s.device_id + '/' + r.id + '/' + (s.pupil_id || ''));
    for (const d of devices) {
      if ((d.kind === 'robot' || d.kind === 'station') && !d.revoked && rooms.has(d.classroom_id) &&
          !had.has(d.id + '/' + d.classroom_id + '/' + (d.pupil_id || ''))) return true;
    }
    return false;
  }

  function seatWords(seat, now) {
    const state = tk('staff.today.robot_', now.state, { robot: seat.device_name });
    if (!seat.pupil_name) return [state, t('staff.today.no_pupil')];
    return [state, t(now.in ? 'staff.today.pupil_in' : 'staff.today.pupil_out', { name: seat.pupil_name })];
  }

  function renderToday() {
    if (!today || $('today').hidden) return;
    if (stale() && Date.now() - todayAt > 3000) { loadToday().catch(() => {}); return; }
    // Drawn afresh, but put in place only when something changed: the
    // live events come every few seconds, and a screen reader reading the
    // view is not moved for nothing.
    const shown = $('today-list');
    const list = document.createElement('div');
    const place = () => { if (list.innerHTML !== shown.innerHTML) shown.replaceChildren(...list.childNodes); };
    if (!today.classrooms.length) { list.appendChild(C.el('p', t('staff.today.none'))); place(); return; }
    const news = [];
    const nowMs = Date.now();
    for (const room of today.classrooms) {
      const sec = C.el('section', null, { class: 'today-room', 'aria-labelledby': 'today-room-' + room.id, 'data-classroom': room.id });
      sec.appendChild(C.el('h3', room.name, { id: 'today-room-' + room.id }));
      const seats = room.seats.map((s) => ({ seat: s, now: seatNow(s) }));
      if (!seats.length) sec.appendChild(C.el('p', t('staff.today.no_robot')));
      for (const { seat, now } of seats) {
        const p = C.el('p', null, { class: 'today-seat', 'data-device': seat.device_id, 'data-seat-state': now.state,
          'data-pupil-in': now.in ? '1' : '0' });
        const [robotWords, pupilWords] = seatWords(seat, now);
        p.append(C.el('span', robotWords, { class: 'chip ' + now.state }), ' ', C.el('span', pupilWords, { class: 'chip ' + (now.in ? 'online' : 'plain') }));
        sec.appendChild(p);
        const key = now.state + '/' + now.in;
        if (lastSeen[seat.device_id] && lastSeen[seat.device_id] !== key) news.push(robotWords + '. ' + pupilWords + '.');
        lastSeen[seat.device_id] = key;
      }
      if (!room.school_day) {
        sec.appendChild(C.el('p', t('staff.today.not_school_day')));
      } else if (!room.lessons.length) {
        sec.appendChild(C.el('p', t('staff.today.no_lessons')));
      } else {
        const ol = C.el('ol', null, { class: 'today-lessons', 'aria-label': t('staff.today.lessons_label', { room: room.name }) });
        for (const l of room.lessons) {
          const from = Date.parse(l.from);
          const to = Date.parse(l.to);
          const phase = to <= nowMs ? 'over' : from <= nowMs ? 'now' : 'later';
          const li = C.el('li', null, { class: 'lesson ' + phase, 'data-phase': phase });
          li.appendChild(C.el('span', t('staff.today.times', { from: I.time(l.from), to: I.time(l.to) }), { class: 'lesson-time' }));
          li.appendChild(C.el('strong', l.name || t('staff.today.lesson'), { class: 'lesson-name' }));
          const st = C.el('span', null, { class: 'lesson-state' });
          if (phase === 'over') {
            st.textContent = t('staff.today.over');
          } else {
            st.append(C.el('span', t(phase === 'now' ? 'staff.today.now' : 'staff.today.later'), { class: 'phase' }));
            for (const { seat, now } of seats) st.append(' ', seatWords(seat, now).join(' · '));
            if (!seats.length) st.append(' ', t('staff.today.no_robot'));
          }
          li.appendChild(st);
          ol.appendChild(li);
        }
        sec.appendChild(ol);
      }
      list.appendChild(sec);
    }
    place();
    if (news.length) $('today-news').textContent = news.join(' ');
  }

  // ---- Check in on return: the pupils whose key adult I am, marked
  // present after a run of absences or moving into a plan phase with more
  // time in school; each stays until marked done (for any staff role: an
  // EWO has no classrooms, but may be a key adult). ----
  let returns = [];

  async function loadReturns() {
    returns = (await C.api('GET', '/api/v1/today/check-ins')).check_ins;
    renderReturns();
  }

  // returnWhy is why a prompt is there, in words.
  function returnWhy(r) {
    if (r.kind === 'back_after_absence' && r.absence) {
      return t('staff.returns.why_absence', { n: r.absence.absences, date: I.date(r.absence.day),
        session: tk('staff.returns.session_', r.absence.session.toLowerCase()) });
    }
    if (r.kind === 'more_school' && r.phase) {
      return t('staff.returns.why_phase', { phase: r.phase.name, date: I.date(r.phase.starts_on),
        n: r.phase.school_sessions, from: r.phase.previous_school_sessions });
    }
    return '';
  }

  function renderReturns() {
    const list = $('returns-list');
    list.textContent = '';
    $('returns').hidden = false;
    if (!returns.length) {
      list.appendChild(C.el('li', t('staff.returns.none'), { class: 'returns-none' }));
      return;
    }
    for (const r of returns) {
      const li = C.el('li', null, { class: 'return', 'data-pupil': r.pupil_id, 'data-reason': r.reason, 'data-kind': r.kind });
      const words = C.el('p');
      words.append(C.el('strong', t('staff.returns.check_in', { name: r.pupil_name })), ' ', returnWhy(r));
      const btn = C.el('button', t('staff.returns.done'), { type: 'button', 'data-action': 'return-done',
        'aria-label': t('staff.returns.done_for', { name: r.pupil_name }) });
      btn.addEventListener('click', () => returnDone(r));
      li.append(words, btn);
      list.appendChild(li);
    }
  }

  async function returnDone(r) {
    try {
      await C.api('POST', '/api/v1/pupils/' + encodeURIComponent(r.pupil_id) + '/return-check-ins', { reason: r.reason });
      await loadReturns();
      C.result($('returns-result'), t('staff.returns.done_result', { name: r.pupil_name }));
    } catch (e) { C.result($('returns-result'), C.problem(e), true); }
  }

  // ---- Messages from families: the threads I follow (as key adult, or
  // the caseload's EWO), those with new messages first, each a link to
  // the pupil's page where the thread is. ----
  async function loadThreads() {
    const threads = await C.api('GET', '/api/v1/messages/threads');
    const list = $('threads-list');
    list.textContent = '';
    $('threads').hidden = threads.length === 0;
    for (const th of threads) {
      const li = C.el('li', null, { class: 'return', 'data-pupil': th.pupil_id });
      const a = C.el('a', th.pupil, { href: '/ewo#pupil=' + encodeURIComponent(th.pupil_id) });
      const p = C.el('p');
      p.append(a, ' ', th.unread ? t('staff.threads.unread', { n: th.unread }) : t('staff.threads.none_new'));
      li.appendChild(p);
      list.appendChild(li);
    }
  }

  // ---- Setup (LA admins). ----
  async function loadAdmin() {
    schools = await C.api('GET', '/api/v1/schools');
    const list = $('school-list');
    list.textContent = '';
    for (const s of schools) list.appendChild(C.el('li', s.name));
    fillSelect('.school-select', schools, (s) => s.name);
    const staffSel = document.querySelector('#staff-form [name=school_id]');
    staffSel.prepend(C.el('option', t('staff.staff.no_school'), { value: '' }));
    staffList = await C.api('GET', '/api/v1/staff');
    const body = $('staff-rows');
    body.textContent = '';
    for (const s of staffList) body.appendChild(C.row([s.name, s.email, I.has('common.role.' + s.role) ? tk('common.role.', s.role) : s.role]));
  }

  // handle wires a form: fn's answer is shown beside it (its result
  // element, #<form>-result without the "-form"), and so is a refusal.
  function handle(form, fn) {
    const out = $(form.replace(/-form$/, '') + '-result');
    $(form).addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = ev.target;
      for (const i of f.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
      try {
        const said = await fn(C.formData(f), f);
        f.reset();
        if (said) C.result(out, said[0], false, said[1]);
      } catch (e) {
        const fields = e.data && e.data.error && e.data.error.fields;
        for (const x of fields || []) {
          const input = f.querySelector('[name="' + CSS.escape(x.field) + '"]');
          if (input) input.setAttribute('aria-invalid', 'true');
        }
        C.result(out, C.problem(e), true);
      }
    });
  }

  handle('device-form', async (d) => {
    const r = await C.api('POST', '/api/v1/devices', { kind: d.kind, name: d.name });
    const box = $('enroll');
    box.textContent = '';
    box.appendChild(C.el('p', t('staff.device.code_for', { name: r.device.name })));
    box.appendChild(C.el('code', r.enrollment_code, { id: 'enroll-code' }));
    if (r.device.kind === 'station') {
      // A classroom station is a browser: it opens this link once.
      const url = location.origin + '/station#enroll=' + r.enrollment_code;
      box.appendChild(C.el('p', t('staff.device.station_open')));
      box.appendChild(C.el('a', url, { href: url, id: 'station-link' }));
    }
    if (r.enrollment_qr) {
      box.appendChild(C.el('p', t('staff.device.scan')));
      box.appendChild(C.el('img', null, { src: r.enrollment_qr, alt: t('staff.device.qr_alt', { code: r.enrollment_code }),
        width: '192', height: '192', id: 'enroll-qr' }));
    }
    box.hidden = false;
    await loadRobots();
    return [t('staff.device.added', { name: r.device.name })];
  });
  handle('setup-form', async (d) => {
    const id = encodeURIComponent(d.device);
    const today = new Date().toISOString().slice(0, 10);
    await C.api('POST', '/api/v1/devices/' + id + '/loan', { school_id: d.school, from: today, to: d.to });
    if (d.classroom) await C.api('POST', '/api/v1/devices/' + id + '/classroom', { classroom_id: d.classroom });
    if (d.pupil) await C.api('POST', '/api/v1/devices/' + id + '/pupil', { pupil_id: d.pupil });
    await loadRobots();
    return [t('staff.setup_device.done')];
  });
  document.querySelector('#setup-form [name=school]').addEventListener('change', (ev) => loadClassrooms(ev.target.value));
  async function loadClassrooms(school) {
    const sel = $('setup-classroom');
    sel.textContent = '';
    sel.appendChild(C.el('option', t('staff.setup_device.no_classroom'), { value: '' }));
    if (!school) return;
    for (const c of await C.api('GET', '/api/v1/schools/' + encodeURIComponent(school) + '/classrooms')) {
      classroomNames[c.id] = c.name;
      sel.appendChild(C.el('option', c.name, { value: c.id }));
    }
  }

  handle('school-form', async (d) => {
    await C.api('POST', '/api/v1/schools', { name: d.name });
    await loadAdmin();
    return [t('staff.schools.done', { name: d.name })];
  });
  handle('classroom-form', async (d) => {
    await C.api('POST', '/api/v1/schools/' + encodeURIComponent(d.school) + '/classrooms', { name: d.name });
    return [t('staff.classrooms.done', { name: d.name })];
  });
  handle('staff-form', async (d) => {
    await C.api('POST', '/api/v1/staff', d);
    await loadAdmin();
    return [t('staff.staff.done', { name: d.name })];
  });
  handle('pupil-form', async (d) => {
    d.year_group = Number(d.year_group);
    await C.api('POST', '/api/v1/pupils', d);
    await loadPupils();
    return [t('staff.pupil.done', { name: d.display_name })];
  });
  handle('parent-form', async (d) => {
    const r = await C.api('POST', '/api/v1/parents', { name: d.name, email: d.email, pupil_ids: [d.pupil] });
    return [t('staff.parent.done', { name: d.name }), [C.el('a', r.invitation_url, { href: r.invitation_url, id: 'invitation-url' })]];
  });
  handle('import-form', async (d, form) => {
    const file = form.querySelector('[name=file]').files[0];
    const table = $('import-errors');
    table.hidden = true;
    try {
      const r = await C.api('POST', '/api/v1/schools/' + encodeURIComponent(d.school) + '/pupils/import',
        await file.text(), 'text/csv');
      await loadPupils();
      return [r.classrooms_created.length ? t('staff.import.done_classrooms', { n: r.pupils_created, classrooms: r.classrooms_created.join(', ') })
        : t('staff.import.done', { n: r.pupils_created })];
    } catch (e) {
      const rep = e.data && e.data.report;
      if (!rep) throw e;
      const body = table.querySelector('tbody');
      body.textContent = '';
      for (const x of rep.errors) body.appendChild(C.row([x.row, x.field, x.message]));
      table.hidden = false;
      throw e;
    }
  });

  // ---- The audit log: names, not ids; filtered; a page at a time. ----
  let audit = [];
  let auditShown = PAGE;

  // auditNames are the names this page already has (devices, which the
  // server's audit log does not name); the server names the rest.
  function auditNames() {
    const names = {};
    for (const p of pupils) names['pupil/' + p.id] = p.display_name + ' (' + p.pupil_number + ')';
    for (const s of schools) names['school/' + s.id] = s.name;
    for (const s of staffList) names['staff/' + s.id] = s.name;
    for (const d of devices) names['device/' + d.id] = d.name;
    return names;
  }

  function auditRow(x, names) {
    const kindWords = (kind) => (I.has('staff.audit.kind.' + kind) ? tk('staff.audit.kind.', kind) : kind);
    const name = (kind, id) => names[kind + '/' + id] || (id ? kindWords(kind) + ' ' + id : kindWords(kind));
    // The server names what it can (an erased pupil stays an id).
    if (x.actor_name) names[x.actor_kind + '/' + x.actor_id] = x.actor_name;
    if (x.target_name) names[x.target_kind + '/' + x.target_id] = x.target_name;
    if (x.pupil_name) names['pupil/' + x.pupil_id] = x.pupil_name;
    let who = name(x.actor_kind, x.actor_id);
    if (x.actor_kind === 'system') who = t('staff.audit.system');
    const act = x.action.replace(/\./g, '_');
    const action = I.has('staff.audit.action.' + act) ? tk('staff.audit.action.', act) : x.action;
    let record = name(x.target_kind, x.target_id);
    if (x.target_kind === 'join_link' && x.pupil_id) record = t('staff.audit.link_of', { name: name('pupil', x.pupil_id) });
    else if (x.pupil_id && x.target_kind !== 'pupil') record += ' · ' + name('pupil', x.pupil_id);
    if (x.target_kind === 'school' && !x.target_id) record = t('staff.audit.all_schools');
    return [when(x.at), who, action, record, x.remote || '–'];
  }

  function renderAudit() {
    const q = $('audit-filter').value.trim().toLowerCase();
    const rows = q ? audit.filter((r) => r.join(' ').toLowerCase().includes(q)) : audit;
    const body = $('audit').querySelector('tbody');
    body.textContent = '';
    for (const r of rows.slice(0, auditShown)) body.appendChild(C.row(r));
    $('audit').hidden = false;
    $('audit-tools').hidden = false;
    $('audit-more').hidden = rows.length <= auditShown;
    return rows.length;
  }

  $('audit-load').addEventListener('click', async () => {
    try {
      const entries = await C.api('GET', '/api/v1/audit?limit=1000');
      const names = auditNames();
      audit = entries.map((x) => auditRow(x, names));
      auditShown = PAGE;
      renderAudit();
      C.result($('audit-result'), t('staff.audit.loaded', { n: entries.length }));
    } catch (e) { C.result($('audit-result'), e.message, true); }
  });
  $('audit-filter').addEventListener('input', () => {
    auditShown = PAGE;
    const n = renderAudit();
    $('audit-result').textContent = t('staff.audit.matching', { n });
  });
  $('audit-more').addEventListener('click', () => {
    const first = auditShown;
    auditShown += PAGE;
    renderAudit();
    const row = $('audit').querySelectorAll('tbody tr')[first];
    if (row) { row.setAttribute('tabindex', '-1'); row.focus(); }
  });

  $('pupil-filter').addEventListener('input', () => { pupilPage = 0; renderPupils(); });
  $('robot-filter').addEventListener('input', () => loadRobots().catch((e) => C.result($('robot-result'), e.message, true)));
  $('pupils-prev').addEventListener('click', () => { pupilPage--; renderPupils(); $('pupils-count').focus(); });
  $('pupils-next').addEventListener('click', () => { pupilPage++; renderPupils(); $('pupils-count').focus(); });
  $('pupils-count').setAttribute('tabindex', '-1');

  // The navigation shows the parts the role may use.
  function showNav() {
    for (const li of document.querySelectorAll('#console-nav li[data-roles]')) {
      li.hidden = !li.dataset.roles.split(' ').includes(me.role);
    }
    $('console-nav').hidden = false;
  }

  C.staffPage(async (who) => {
    me = who;
    showNav();
    $('pupils').hidden = false;
    C.say('');
    try {
      if (me.role === 'admin') {
        $('admin').hidden = false;
        await loadAdmin();
        window.seatlinkTimetable.start();
        await loadClassrooms(document.querySelector('#setup-form [name=school]').value);
      }
      await loadPupils();
      if (me.role === 'admin' || me.role === 'teacher' || me.role === 'ewo') {
        $('today').hidden = false;
        $('today-date').textContent = I.date(new Date());
        await loadReturns();
        await loadThreads();
      }
      if (me.role === 'admin' || me.role === 'teacher') {
        $('robots').hidden = false;
        await loadToday();
        await loadRobots();
        watchDevices();
      }
    } catch (e) { C.say(e.message, true); }
  });
})();
