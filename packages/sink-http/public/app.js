// The web view's page: a live table of entries over Server-Sent Events, with
// filters the server applies (a new EventSource per filter), pause/resume, a
// rate chart and a producer panel from /status. No framework, no build step:
// this file is served as it is, under a CSP that allows no other script.
//
// Memory in the browser is bounded: MAX_ROWS entries in the table, MAX_WAITING
// while paused (beyond that, the oldest waiting are let go and counted missed).

const MAX_ROWS = 10_000
const MAX_WAITING = 10_000
const ROW_HEIGHT = 22
const STATUS_EVERY_MS = 2000
const LEVELS = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }
const COLORS = {
  trace: '#7f8796',
  debug: '#5aa9e6',
  info: '#59c27a',
  warn: '#e8b04a',
  error: '#ef5b5b',
  fatal: '#c452e0',
}

const $ = (id) => document.getElementById(id)
const ui = {
  title: $('title'),
  state: $('state'),
  level: $('level'),
  source: $('source'),
  text: $('text'),
  pause: $('pause'),
  received: $('count-received'),
  shown: $('count-shown'),
  waiting: $('count-waiting'),
  missed: $('count-missed'),
  viewport: $('viewport'),
  spacer: $('spacer'),
  rows: $('rows'),
  details: $('details'),
  chart: $('chart'),
  legend: $('legend'),
  producers: document.querySelector('#producers tbody'),
}

const view = {
  /** Entries (and missed markers) in the table, oldest first. */
  rows: [],
  waiting: [],
  paused: false,
  received: 0,
  missed: 0,
  selected: undefined,
  follow: true,
  /** Where render() last scrolled to by itself. */
  autoTop: 0,
  scheduled: false,
  events: undefined,
}

function levelName(level) {
  return LEVELS[level] ?? (level >= 60 ? 'fatal' : level >= 50 ? 'error' : level >= 40 ? 'warn' : 'info')
}

function timeText(ns) {
  const ms = Number(BigInt(ns) / 1_000_000n)
  const d = new Date(ms)
  return `${d.toTimeString().slice(0, 8)}.${String(ms % 1000).padStart(3, '0')}`
}

// ---- the stream ----

function streamUrl() {
  const params = new URLSearchParams()
  if (ui.level.value !== '') params.set('level', ui.level.value)
  const sources = ui.source.value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  if (sources.length > 0) params.set('source', sources.join(','))
  if (ui.text.value.trim() !== '') params.set('q', ui.text.value.trim())
  const query = params.toString()
  return query === '' ? 'events' : `events?${query}`
}

function setState(state) {
  ui.state.dataset.state = state
  ui.state.textContent = state
}

/** (Re)connects with the current filters: the table starts over with the filtered history. */
function connect() {
  view.events?.close()
  view.rows = []
  view.waiting = []
  view.selected = undefined
  ui.details.hidden = true
  setState('connecting')
  const events = new EventSource(streamUrl())
  view.events = events
  events.addEventListener('hello', (e) => {
    const hello = JSON.parse(e.data)
    if (hello.title !== '') {
      ui.title.textContent = hello.title
      document.title = `logkit · ${hello.title}`
    }
    // Not resumed (a first stream, or the server restarted and its ids began again): the whole history comes.
    if (!hello.resumed) {
      view.rows = []
      view.waiting = []
    }
    setState('history')
  })
  events.addEventListener('live', () => setState('live'))
  events.addEventListener('entry', (e) => take(JSON.parse(e.data)))
  // `count` is exact; `upTo` (a filtered resume past the history) is at most that many.
  events.addEventListener('missed', (e) => {
    const { count, upTo } = JSON.parse(e.data)
    view.missed += count ?? upTo
    take({ missed: count ?? upTo, upTo: count === undefined })
  })
  // The browser reconnects by itself, with Last-Event-ID: the server resumes after it.
  events.addEventListener('error', () => setState(events.readyState === 2 ? 'closed' : 'reconnecting'))
}

function take(item) {
  if (item.missed === undefined) view.received++
  if (view.paused) {
    view.waiting.push(item)
    if (view.waiting.length > MAX_WAITING) {
      const lost = view.waiting.splice(0, view.waiting.length - MAX_WAITING)
      const n = lost.filter((x) => x.missed === undefined).length
      view.missed += n
    }
  } else {
    append([item])
  }
  schedule()
}

function append(items) {
  for (const item of items) view.rows.push(item)
  if (view.rows.length > MAX_ROWS) view.rows.splice(0, view.rows.length - MAX_ROWS)
}

// ---- the table: only the rows in sight are in the DOM ----

function schedule() {
  if (view.scheduled) return
  view.scheduled = true
  requestAnimationFrame(render)
}

function render() {
  view.scheduled = false
  ui.received.textContent = String(view.received)
  ui.shown.textContent = String(view.rows.filter((r) => r.missed === undefined).length)
  ui.waiting.textContent = String(view.waiting.length)
  ui.missed.textContent = String(view.missed)
  const total = view.rows.length
  ui.spacer.style.height = `${total * ROW_HEIGHT}px`
  if (view.follow) {
    ui.viewport.scrollTop = ui.viewport.scrollHeight
    view.autoTop = ui.viewport.scrollTop
  }
  const top = ui.viewport.scrollTop
  const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - 5)
  const last = Math.min(total, Math.ceil((top + ui.viewport.clientHeight) / ROW_HEIGHT) + 5)
  ui.rows.style.transform = `translateY(${first * ROW_HEIGHT}px)`
  const fragment = document.createDocumentFragment()
  for (let k = first; k < last; k++) fragment.append(rowElement(view.rows[k], k))
  ui.rows.replaceChildren(fragment)
}

function cell(text, className) {
  const span = document.createElement('span')
  span.textContent = text
  if (className !== undefined) span.className = className
  return span
}

function rowElement(item, index) {
  const row = document.createElement('div')
  row.dataset.index = String(index)
  if (item.missed !== undefined) {
    row.className = 'row missed'
    row.append(cell(`… ${item.upTo ? 'up to ' : ''}${item.missed} entries missed`))
    return row
  }
  const level = levelName(item.level)
  row.className = index === view.selected ? 'row entry selected' : 'row entry'
  row.dataset.id = String(item.id)
  row.dataset.level = level
  row.dataset.source = item.source
  row.append(
    cell(timeText(item.time), 'time'),
    cell(level, `lvl lvl-${level}`),
    cell(item.source),
    cell(String(item.pid), 'pid'),
    cell(item.msg, 'msg'),
  )
  return row
}

ui.rows.addEventListener('click', (e) => {
  const row = e.target.closest('.row.entry')
  if (row === null) return
  const index = Number(row.dataset.index)
  const item = view.rows[index]
  if (view.selected === index) {
    view.selected = undefined
    ui.details.hidden = true
  } else {
    view.selected = index
    const { id, time, level, levelName: _name, source, pid, seq, app, hostname, msg, fields } = item
    ui.details.textContent = JSON.stringify(
      { id, time, level, source, pid, seq, app, hostname, msg, fields },
      null,
      2,
    )
    ui.details.hidden = false
  }
  schedule()
})

ui.viewport.addEventListener('scroll', () => {
  // Our own scrolling to the bottom is no reason to stop following, even when rows came meanwhile.
  if (Math.abs(ui.viewport.scrollTop - view.autoTop) < 2) return
  const atBottom = ui.viewport.scrollTop + ui.viewport.clientHeight >= ui.viewport.scrollHeight - ROW_HEIGHT
  view.follow = atBottom
  schedule()
})

// ---- pause, filters ----

ui.pause.addEventListener('click', () => {
  view.paused = !view.paused
  ui.pause.setAttribute('aria-pressed', String(view.paused))
  ui.pause.textContent = view.paused ? 'Resume' : 'Pause'
  if (!view.paused) {
    append(view.waiting)
    view.waiting = []
  }
  schedule()
})

let refilter
function filtersChanged() {
  clearTimeout(refilter)
  refilter = setTimeout(connect, 250)
}
ui.level.addEventListener('change', filtersChanged)
ui.source.addEventListener('input', filtersChanged)
ui.text.addEventListener('input', filtersChanged)
$('filters').addEventListener('submit', (e) => e.preventDefault())

// ---- status: producers and the rate chart ----

async function poll() {
  try {
    const res = await fetch('status', { cache: 'no-store' })
    if (res.ok) {
      const status = await res.json()
      producers(status.producers ?? [])
      chart(status.rates)
    }
  } catch {
    // The collector is restarting; the next poll tries again.
  }
  setTimeout(poll, STATUS_EVERY_MS)
}

function ago(ms) {
  const s = Math.max(0, (Date.now() - ms) / 1000)
  return s < 60 ? `${s.toFixed(1)}s ago` : `${Math.round(s / 60)}m ago`
}

function producers(rows) {
  const body = document.createDocumentFragment()
  for (const p of rows) {
    const tr = document.createElement('tr')
    const state = p.exited ? 'exited' : p.alive ? 'alive' : 'gone'
    tr.dataset.pid = String(p.pid)
    tr.dataset.state = state
    const stateText = p.exited ? (p.clean ? 'exited cleanly' : `exited, ${p.salvaged ?? 0} salvaged`) : state
    for (const [text, className] of [
      [p.source, undefined],
      [String(p.pid), undefined],
      [stateText, 'pstate'],
      [String(p.entries), undefined],
      [String(p.perSecond), undefined],
      [ago(p.lastSeenMs), undefined],
      [String(p.drops), undefined],
      [String(p.seqGaps), undefined],
    ]) {
      const td = document.createElement('td')
      td.textContent = text
      if (className !== undefined) td.className = className
      tr.append(td)
    }
    body.append(tr)
  }
  ui.producers.replaceChildren(body)
}

function chart(rates) {
  const canvas = ui.chart
  const ratio = window.devicePixelRatio || 1
  const width = canvas.clientWidth
  const height = canvas.clientHeight
  canvas.width = width * ratio
  canvas.height = height * ratio
  const g = canvas.getContext('2d')
  g.scale(ratio, ratio)
  g.clearRect(0, 0, width, height)
  const series = rates?.series ?? []
  const perSecond = 1000 / (rates?.bucketMs ?? 1000)
  let max = 1
  for (const s of series) for (const n of s.counts) max = Math.max(max, n * perSecond)
  const pad = 24
  g.strokeStyle = '#262b36'
  g.fillStyle = '#8a93a6'
  g.font = '10px system-ui'
  g.beginPath()
  g.moveTo(pad, 4)
  g.lineTo(pad, height - 14)
  g.lineTo(width - 4, height - 14)
  g.stroke()
  g.fillText(String(Math.round(max)), 2, 12)
  g.fillText('0', 2, height - 14)
  g.fillText('now', width - 24, height - 2)
  g.fillText('−5 min', pad, height - 2)
  const legend = document.createDocumentFragment()
  const sources = [...new Set(series.map((s) => s.source))].sort()
  for (const s of series) {
    const color = COLORS[levelName(s.level)]
    const dash = sources.indexOf(s.source) % 4
    g.strokeStyle = color
    g.setLineDash(dash === 0 ? [] : [2 + dash * 2, 3])
    g.lineWidth = 1.5
    g.beginPath()
    const step = (width - pad - 4) / Math.max(1, s.counts.length - 1)
    s.counts.forEach((n, k) => {
      const x = pad + k * step
      const y = height - 14 - ((n * perSecond) / max) * (height - 20)
      if (k === 0) g.moveTo(x, y)
      else g.lineTo(x, y)
    })
    g.stroke()
    const li = document.createElement('li')
    const swatch = document.createElement('i')
    swatch.style.background = color
    li.append(swatch, `${s.source} · ${levelName(s.level)}`)
    legend.append(li)
  }
  g.setLineDash([])
  ui.legend.replaceChildren(legend)
}

connect()
poll()
