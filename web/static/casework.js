// The people around the pupil, for the parent's page and the staff's view
// of a pupil: the key adult (who, and how to reach them) and the thread
// between the family and school (read it, write in it). The server
// decides who may see what; a refusal shows nothing, never someone
// else's words. Text goes in with textContent only.
'use strict';

window.seatlinkCasework = (() => {
  const C = window.seatlinkConsole;
  const I = window.seatlinkI18n;
  const t = I.t;
  const MAX_MESSAGE = 4000; // casework.maxMessage
  let seq = 0;
  const uid = (p) => p + '-' + (++seq);
  const pupilPath = (id, rest) => '/api/v1/pupils/' + encodeURIComponent(id) + rest;

  // when is a message's or check-in's day and time, in the page's language.
  const when = (iso) => t('casework.when', { date: I.date(iso, { weekday: 'short', day: 'numeric', month: 'long', year: 'numeric' }), time: I.time(iso) });

  // keyAdult is the pupil's key adult, or null when there is none yet; a
  // refusal (not the reader's to see) is thrown.
  async function keyAdult(pupilID) {
    try {
      return await C.api('GET', pupilPath(pupilID, '/key-adult'));
    } catch (e) {
      if (e.status === 404) return null;
      throw e;
    }
  }

  // keyAdultCard says who the key adult is and how to reach them.
  function keyAdultCard(k, forFamily) {
    const box = C.el('div', null, { class: 'key-adult' });
    if (!k) {
      box.appendChild(C.el('p', t(forFamily ? 'casework.key_adult.none_family' : 'casework.key_adult.none'), { class: 'none' }));
      return box;
    }
    // A family reads the role in plain words ("education welfare officer", not "EWO").
    const key = (forFamily ? 'casework.family_role.' : 'common.role.') + k.role;
    const role = I.has(key) ? t(key) : k.role;
    const who = C.el('p', null, { class: 'who' });
    who.appendChild(C.el('strong', k.name, { class: 'name' }));
    who.append(' ', t(k.school ? 'casework.key_adult.role_at' : 'casework.key_adult.role', { role, school: k.school || '' }));
    box.appendChild(who);
    box.appendChild(C.el('p', k.contact ? t('casework.key_adult.contact', { contact: k.contact }) : t('casework.key_adult.no_contact'),
      { class: 'contact' }));
    return box;
  }

  // thread draws a pupil's thread with its form into a new element and
  // reads it (which marks it read). opts.family: the parent's words;
  // opts.level: the heading's level; opts.onRead(unread) is told how many
  // were new. A refusal (404, 403) gives null: the reader may not see it.
  async function thread(pupilID, opts) {
    const o = opts || {};
    let th;
    try {
      th = await C.api('GET', pupilPath(pupilID, '/messages'));
    } catch (e) {
      if (e.status === 404 || e.status === 403) return null;
      throw e;
    }
    if (o.onRead) o.onRead(th.unread || 0);
    const id = uid('thread');
    const sec = C.el('section', null, { class: 'thread', 'aria-labelledby': id + '-title', 'data-pupil': pupilID });
    sec.appendChild(C.el('h' + (o.level || 3), t(o.family ? 'casework.thread.title_family' : 'casework.thread.title_staff'), { id: id + '-title' }));
    sec.appendChild(C.el('p', t(o.family ? 'casework.thread.who_family' : 'casework.thread.who_staff'), { class: 'meta' }));
    const list = C.el('ol', null, { class: 'messages', 'aria-label': t('casework.thread.list') });
    const empty = C.el('p', t('casework.thread.empty'), { class: 'empty' });
    const readTo = th.read_to ? Date.parse(th.read_to) : 0;
    for (const m of th.messages) list.appendChild(message(m, !m.mine && Date.parse(m.at) > readTo, o.family));
    empty.hidden = th.messages.length > 0;
    list.hidden = th.messages.length === 0;
    sec.appendChild(empty);
    sec.appendChild(list);
    sec.appendChild(form(pupilID, id, o, (m) => {
      list.appendChild(message(m, false, o.family));
      list.hidden = false;
      empty.hidden = true;
    }));
    return sec;
  }

  function message(m, isNew, family) {
    const li = C.el('li', null, { class: 'message' + (m.mine ? ' mine' : '') + (isNew ? ' new' : ''), 'data-id': m.id });
    const head = C.el('p', null, { class: 'msg-head' });
    let author = m.mine ? t('casework.message.you') : m.author;
    if (!m.mine && m.author_kind === 'parent' && !family) author = t('casework.message.parent', { name: m.author });
    head.appendChild(C.el('strong', author));
    head.append(' ');
    head.appendChild(C.el('time', when(m.at), { datetime: m.at }));
    if (isNew) {
      head.append(' ');
      head.appendChild(C.el('span', t('casework.message.new'), { class: 'chip new' }));
    }
    li.appendChild(head);
    li.appendChild(C.el('p', m.body, { class: 'msg-body' }));
    return li;
  }

  // form writes in the thread: plain text up to 4000 characters, the
  // characters left under the box, the result beside the button.
  function form(pupilID, id, o, added) {
    const f = C.el('form', null, { class: 'message-form', novalidate: '' });
    const label = C.el('label', null, { for: id + '-text' });
    label.textContent = t(o.family ? 'casework.form.label_family' : 'casework.form.label_staff');
    const box = C.el('textarea', null, { id: id + '-text', name: 'body', rows: '5', maxlength: String(MAX_MESSAGE),
      'aria-describedby': id + '-left' });
    const left = C.el('p', null, { id: id + '-left', class: 'counter' });
    const count = () => {
      const n = MAX_MESSAGE - [...box.value].length;
      left.textContent = t('casework.form.left', { n: Math.max(0, n) });
    };
    count();
    box.addEventListener('input', count);
    const row = C.el('div', null, { class: 'send-row' });
    const send = C.el('button', t('casework.form.send'), { type: 'submit' });
    const said = C.el('p', null, { id: id + '-status', class: 'result', role: 'status' });
    row.appendChild(send);
    row.appendChild(said);
    f.appendChild(label);
    f.appendChild(box);
    f.appendChild(left);
    f.appendChild(row);
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = box.value.trim();
      if (!body) {
        box.setAttribute('aria-invalid', 'true');
        C.result(said, t('casework.form.empty'), true);
        return;
      }
      box.removeAttribute('aria-invalid');
      send.disabled = true;
      try {
        const m = await C.api('POST', pupilPath(pupilID, '/messages'), { body });
        box.value = '';
        count();
        added(m);
        C.result(said, t(o.family ? 'casework.form.sent_family' : 'casework.form.sent_staff', { time: I.time(m.at) }));
      } catch (e) {
        C.result(said, C.problem(e), true);
      } finally {
        send.disabled = false;
      }
    });
    return f;
  }

  // checkIns draws the pupil's check-ins for their key adult (null when
  // the reader is not the key adult: the server answers 404), newest
  // first, with a gentle note when the last three were low.
  async function checkIns(pupilID, level) {
    let ci;
    try {
      ci = await C.api('GET', pupilPath(pupilID, '/check-ins'));
    } catch (e) {
      if (e.status === 404 || e.status === 403) return null;
      throw e;
    }
    const id = uid('checkins');
    const sec = C.el('section', null, { class: 'checkins noprint', 'aria-labelledby': id + '-title' });
    sec.appendChild(C.el('h' + (level || 2), t('casework.checkins.title'), { id: id + '-title' }));
    sec.appendChild(C.el('p', t('casework.checkins.who'), { class: 'meta' }));
    if (ci.low_run) sec.appendChild(C.el('p', t('casework.checkins.low_run'), { class: 'gentle' }));
    if (!ci.check_ins.length) {
      sec.appendChild(C.el('p', t('casework.checkins.none'), { class: 'empty' }));
      return sec;
    }
    const ol = C.el('ol', null, { class: 'checkin-list' });
    for (const c of ci.check_ins) {
      const li = C.el('li', null, { 'data-feeling': String(c.feeling) });
      li.appendChild(C.el('span', t('casework.feeling.' + c.feeling), { class: 'feeling f' + c.feeling }));
      li.append(' ');
      li.appendChild(C.el('time', when(c.at), { datetime: c.at }));
      if (c.words) li.appendChild(C.el('p', t('casework.checkins.words', { words: c.words }), { class: 'words' }));
      ol.appendChild(li);
    }
    sec.appendChild(ol);
    return sec;
  }

  return { keyAdult, keyAdultCard, thread, checkIns, when };
})();
