// The staff console: sign-in, then what the signed-in role may do. The
// server checks every call; this page only hides what would be refused.
'use strict';

(() => {
  const C = window.seatlinkConsole;
  const $ = (id) => document.getElementById(id);
  let me = null;
  let schools = [];
  let pupils = [];

  function fillSelect(cls, items, label, withNone) {
    for (const sel of document.querySelectorAll(cls)) {
      sel.textContent = '';
      if (withNone) sel.appendChild(C.el('option', '(none: LA admin)', { value: '' }));
      for (const it of items) sel.appendChild(C.el('option', label(it), { value: it.id }));
    }
  }

  async function loadPupils() {
    pupils = await C.api('GET', '/api/v1/pupils');
    const body = $('pupil-rows');
    body.textContent = '';
    for (const p of pupils) {
      const btn = C.el('button', 'Issue join link', { type: 'button', 'data-pupil': p.id });
      btn.addEventListener('click', () => issue(p));
      body.appendChild(C.row([p.pupil_number, p.display_name, p.year_group, btn]));
    }
    fillSelect('.pupil-select', pupils, (p) => p.pupil_number + ' ' + p.display_name);
  }

  async function issue(p) {
    try {
      const r = await C.api('POST', '/api/v1/pupils/' + encodeURIComponent(p.id) + '/join-links', { lifetime_hours: 168 });
      const box = $('issued');
      box.textContent = '';
      box.appendChild(C.el('p', 'Join link for ' + p.display_name + ' (valid 7 days; send it to the family):'));
      box.appendChild(C.el('a', r.url, { href: r.url, id: 'issued-url' }));
      const code = C.el('p', 'Or type this code on the tablet within the hour: ');
      code.appendChild(C.el('code', r.code, { id: 'issued-code' }));
      box.appendChild(code);
      box.hidden = false;
      C.say('Join link issued.');
    } catch (e) { C.say(e.message, true); }
  }

  // Robots: status, battery, network, pupil, one-click actions; updated
  // live from the server's event stream.
  let devices = [];
  let refreshTimer = null;

  function status(d) {
    if (!d.live.online) {
      const why = { heartbeat_timeout: 'no heartbeat', connection_lost: 'connection lost', revoked: 'revoked',
        clean_close: 'switched off', replaced: 'reconnected elsewhere' }[d.presence_reason] || '';
      return ['offline', 'Offline' + (why ? ' (' + why + ')' : '')];
    }
    return d.live.state.asleep ? ['asleep', 'Asleep'] : ['online', 'Online'];
  }

  async function command(d, cmd) {
    try {
      await C.api('POST', '/api/v1/devices/' + encodeURIComponent(d.id) + '/commands', { command: cmd });
      C.say(d.name + ': ' + cmd + ' done.');
    } catch (e) { C.say(d.name + ': ' + e.message, true); }
    scheduleRefresh();
  }

  async function loadRobots() {
    devices = await C.api('GET', '/api/v1/devices');
    const body = $('robot-rows');
    body.textContent = '';
    const alerts = $('alerts');
    alerts.textContent = '';
    // Admins see the LA's whole pool; teachers their school's robots and classroom stations.
    const robots = devices.filter((d) => me.role === 'admin' || ((d.kind === 'robot' || d.kind === 'station') && d.school_id === me.school_id));
    for (const th of document.querySelectorAll('.admin-only')) th.hidden = me.role !== 'admin';
    $('robots-empty').hidden = robots.length > 0;
    for (const d of robots) {
      const [cls, label] = status(d);
      const chip = C.el('span', label, { class: 'chip ' + cls, 'data-status': cls });
      const tel = d.live.telemetry;
      const battery = tel && tel.battery != null ? tel.battery + '%' + (tel.charging ? ' (charging)' : '') : (tel && tel.charging ? 'charging' : '–');
      const rm = d.media && d.media.robot;
      let net = rm && rm.connected ? (rm.rtt_ms < 1 ? '<1' : Math.round(rm.rtt_ms)) + ' ms, ' + rm.loss_pct.toFixed(1) + '% loss' : '–';
      if (tel && tel.network) net = tel.network + (net === '–' ? '' : ', ' + net);
      const pupil = d.media && d.media.pupil && d.media.pupil.connected ? 'Connected' : (d.pupil_id ? 'Not connected' : 'Not paired');
      const actions = document.createElement('span');
      if (d.live.online) {
        const asleep = d.live.state.asleep;
        const b1 = C.el('button', asleep ? 'Wake' : 'Sleep', { type: 'button', 'data-action': asleep ? 'wake' : 'sleep' });
        b1.addEventListener('click', () => command(d, asleep ? 'wake' : 'sleep'));
        const muted = d.live.state.muted;
        const b2 = C.el('button', muted ? 'Unmute' : 'Mute', { type: 'button', 'data-action': muted ? 'unmute' : 'mute' });
        b2.addEventListener('click', () => command(d, muted ? 'unmute' : 'mute'));
        actions.append(b1, b2);
      }
      if (me.role === 'admin' && !d.revoked) {
        const rv = C.el('button', 'Revoke', { type: 'button', 'data-action': 'revoke' });
        rv.addEventListener('click', async () => {
          try { await C.api('DELETE', '/api/v1/devices/' + encodeURIComponent(d.id) + '/credential'); C.say(d.name + ' revoked.'); }
          catch (e) { C.say(e.message, true); }
          scheduleRefresh();
        });
        actions.append(rv);
      }
      const cells = [d.name + (d.kind === 'robot' ? '' : ' (' + d.kind + ')'), chip, battery, net, pupil];
      if (me.role === 'admin') {
        const school = schools.find((x) => x.id === d.school_id);
        cells.push(school && d.loan_ends ? school.name + ' until ' + new Date(Date.parse(d.loan_ends) - 1).toLocaleDateString() : 'In the LA pool');
      }
      cells.push(actions);
      const tr = C.row(cells);
      tr.setAttribute('data-device', d.id);
      body.appendChild(tr);
    }
    for (const al of await C.api('GET', '/api/v1/devices/alerts')) alerts.appendChild(C.el('li', al.message));
    const sel = $('setup-device');
    if (sel) {
      sel.textContent = '';
      for (const d of devices.filter((x) => !x.revoked)) sel.appendChild(C.el('option', d.name, { value: d.id }));
    }
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

  async function loadAdmin() {
    schools = await C.api('GET', '/api/v1/schools');
    const list = $('school-list');
    list.textContent = '';
    for (const s of schools) list.appendChild(C.el('li', s.name));
    fillSelect('.school-select', schools, (s) => s.name);
    const staffSel = document.querySelector('#staff-form [name=school_id]');
    staffSel.prepend(C.el('option', '(none: LA admin)', { value: '' }));
    const staff = await C.api('GET', '/api/v1/staff');
    const body = $('staff-rows');
    body.textContent = '';
    for (const s of staff) body.appendChild(C.row([s.name, s.email, s.role]));
  }

  function handle(form, fn) {
    $(form).addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await fn(C.formData(ev.target), ev.target);
        ev.target.reset();
      } catch (e) {
        const fields = e.data && e.data.error && e.data.error.fields;
        C.say(fields ? fields.map((f) => f.message).join('; ') : e.message, true);
      }
    });
  }

  handle('device-form', async (d) => {
    const r = await C.api('POST', '/api/v1/devices', { kind: d.kind, name: d.name });
    const box = $('enroll');
    box.textContent = '';
    box.appendChild(C.el('p', 'Enrollment code for ' + r.device.name + ' (type it on the device within 15 minutes):'));
    box.appendChild(C.el('code', r.enrollment_code, { id: 'enroll-code' }));
    if (r.device.kind === 'station') {
      // A classroom station is a browser: it opens this link once.
      const url = location.origin + '/station#enroll=' + r.enrollment_code;
      box.appendChild(C.el('p', 'On the tablet or laptop that will sit in the pupil\'s seat, open:'));
      box.appendChild(C.el('a', url, { href: url, id: 'station-link' }));
    }
    if (r.enrollment_qr) {
      box.appendChild(C.el('p', 'Or scan this with the device\'s camera:'));
      box.appendChild(C.el('img', null, { src: r.enrollment_qr, alt: 'QR code of the enrollment code ' + r.enrollment_code,
        width: '192', height: '192', id: 'enroll-qr' }));
    }
    box.hidden = false;
    await loadRobots();
  });
  handle('setup-form', async (d) => {
    const id = encodeURIComponent(d.device);
    const today = new Date().toISOString().slice(0, 10);
    await C.api('POST', '/api/v1/devices/' + id + '/loan', { school_id: d.school, from: today, to: d.to });
    if (d.classroom) await C.api('POST', '/api/v1/devices/' + id + '/classroom', { classroom_id: d.classroom });
    if (d.pupil) await C.api('POST', '/api/v1/devices/' + id + '/pupil', { pupil_id: d.pupil });
    C.say('Device set up.');
    await loadRobots();
  });
  document.querySelector('#setup-form [name=school]').addEventListener('change', (ev) => loadClassrooms(ev.target.value));
  async function loadClassrooms(school) {
    const sel = $('setup-classroom');
    sel.textContent = '';
    sel.appendChild(C.el('option', '(none)', { value: '' }));
    if (!school) return;
    for (const c of await C.api('GET', '/api/v1/schools/' + encodeURIComponent(school) + '/classrooms')) {
      sel.appendChild(C.el('option', c.name, { value: c.id }));
    }
  }

  handle('school-form', async (d) => {
    await C.api('POST', '/api/v1/schools', { name: d.name });
    C.say('School created.');
    await loadAdmin();
  });
  handle('classroom-form', async (d) => {
    await C.api('POST', '/api/v1/schools/' + encodeURIComponent(d.school) + '/classrooms', { name: d.name });
    C.say('Classroom created.');
  });
  handle('staff-form', async (d) => {
    await C.api('POST', '/api/v1/staff', d);
    C.say('Staff member added.');
    await loadAdmin();
  });
  handle('pupil-form', async (d) => {
    d.year_group = Number(d.year_group);
    await C.api('POST', '/api/v1/pupils', d);
    C.say('Pupil added.');
    await loadPupils();
  });
  handle('parent-form', async (d) => {
    const r = await C.api('POST', '/api/v1/parents', { name: d.name, email: d.email, pupil_ids: [d.pupil] });
    C.say('Invitation made. Send this link to the parent: ' + r.invitation_url);
  });
  handle('import-form', async (d, form) => {
    const file = form.querySelector('[name=file]').files[0];
    const table = $('import-errors');
    table.hidden = true;
    try {
      const r = await C.api('POST', '/api/v1/schools/' + encodeURIComponent(d.school) + '/pupils/import',
        await file.text(), 'text/csv');
      C.say('Imported ' + r.pupils_created + ' pupils' +
        (r.classrooms_created.length ? ' and classrooms ' + r.classrooms_created.join(', ') : '') + '.');
      await loadPupils();
    } catch (e) {
      const rep = e.data && e.data.report;
      if (!rep) throw e;
      const body = table.querySelector('tbody');
      body.textContent = '';
      for (const x of rep.errors) body.appendChild(C.row([x.row, x.field, x.message]));
      table.hidden = false;
      C.say(e.message, true);
    }
  });
  $('audit-load').addEventListener('click', async () => {
    try {
      const entries = await C.api('GET', '/api/v1/audit?limit=200');
      const body = $('audit').querySelector('tbody');
      body.textContent = '';
      for (const x of entries) {
        body.appendChild(C.row([new Date(x.at).toLocaleString(), x.actor_kind + ' ' + x.actor_id, x.action,
          x.target_kind + ' ' + x.target_id, x.remote]));
      }
      $('audit').hidden = false;
    } catch (e) { C.say(e.message, true); }
  });
  C.staffPage(async (who) => {
    me = who;
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
      if (me.role === 'admin' || me.role === 'teacher') {
        $('robots').hidden = false;
        await loadRobots();
        watchDevices();
      }
    } catch (e) { C.say(e.message, true); }
  });
})();
