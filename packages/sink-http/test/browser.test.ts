// The page in a real browser (Debian's chromium, driven by playwright-core),
// against the real `logkit compose` with real shm producers: it shows the
// history, then live entries; the level filter hides what it should; pause
// holds the view while the counter grows; the producer panel shows a producer
// that was SIGKILLed as exited. A screenshot is saved as an artifact (in the
// test's temp folder; LOGKIT_SCREENSHOT=path writes one there too).

import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createEntry } from '@logkit/core'
import { tempDir, waitFor } from '@logkit/core/testing'
import { chromium, type Page } from 'playwright-core'
import t from 'tap'
import { createHttpSink } from '../src/index.js'
import { exited, freePort, getJson, testApp, waitForUrl } from './helpers.js'

const executablePath = process.env['LOGKIT_CHROMIUM'] ?? '/usr/bin/chromium'

const rows = (page: Page, selector = '.row.entry') =>
  page.$$eval(selector, (els) =>
    els.map((e) => ({
      id: Number((e as HTMLElement).dataset['id']),
      level: (e as HTMLElement).dataset['level'] ?? '',
      source: (e as HTMLElement).dataset['source'] ?? '',
    })),
  )
const counter = async (page: Page, name: string) => Number(await page.textContent(`#count-${name}`))

t.test(
  'the web view in Chromium: history then live, level filter, pause, a SIGKILLed producer',
  async (t) => {
    t.ok(existsSync(executablePath), `chromium is installed at ${executablePath} (.ci/run installs it)`)
    const app = testApp(t, 'browser')
    const port = await freePort()
    const compose = await app.compose([
      '  main:',
      '    sources: [{ use: shm }]',
      '    sinks:',
      '      - use: http',
      `        port: ${port}`,
      '        history: 500',
    ])
    const base = `http://127.0.0.1:${port}/`
    await waitForUrl(`${base}status`, 'the web view to listen')

    // History: a producer that logs 20 entries and exits before the page opens.
    const early = await app.producer('history', 20)
    await exited(early.child)
    t.equal(early.child.exitCode, 0, 'the first producer logged 20 entries and exited')
    let published = 0
    await waitFor(() => {
      void getJson(`${base}status`)
        .then((s) => (published = s['lastId'] as number))
        .catch(() => {})
      return published >= 20
    }, 'the 20 entries to reach the sink')

    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] })
    t.teardown(() => browser.close())
    const page = await browser.newPage({ viewport: { width: 1400, height: 820 } })
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(String(err)))
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text())
    })
    await page.goto(base)
    await page.waitForSelector('#state[data-state="live"]')
    const history = (await rows(page)).filter((r) => r.source === 'history')
    t.equal(history.length, 20, 'the 20 entries of the history are in the table')
    t.same(
      history.map((r) => r.level),
      Array.from({ length: 20 }, (_, k) => ((k + 1) % 3 === 0 ? 'error' : 'info')),
      'in order, each level in its row',
    )

    // Live: a producer that logs until stopped.
    const live = await app.producer('live', 0, 40)
    await page.waitForFunction(() => document.querySelectorAll('.row.entry[data-source="live"]').length >= 10)
    t.pass('live entries appear as they are logged')
    // Both read in one turn of the page: rows are replaced on every frame.
    const [colour, infoColour] = await page.evaluate(() =>
      ['error', 'info'].map((level) => {
        const e = document.querySelector(`.row.entry[data-level="${level}"] .lvl`)
        return e === null ? '' : getComputedStyle(e).color
      }),
    )
    t.ok(colour !== '' && infoColour !== '', 'an error row and an info row are in sight')
    t.not(colour, infoColour, 'levels have their own colour')

    // The level filter: applied by the server, the table starts over.
    await page.selectOption('#level', 'error')
    await page.waitForFunction(() => {
      const all = [...document.querySelectorAll<HTMLElement>('.row.entry')]
      return all.length >= 6 && all.every((e) => e.dataset['level'] === 'error')
    })
    const filtered = await rows(page)
    t.ok(filtered.length >= 6, `error rows show (${filtered.length})`)
    t.same(
      filtered.filter((r) => r.level !== 'error' && r.level !== 'fatal'),
      [],
      'no row below error',
    )
    t.equal(
      filtered.filter((r) => r.source === 'history').length,
      6,
      'the 6 errors of the history, none of its infos',
    )
    await page.selectOption('#level', '')
    await page.waitForFunction(() => document.querySelector('.row.entry[data-level="info"]') !== null)

    // Pause: the view holds, the counter grows; resume: the waiting entries show.
    await page.click('#pause')
    const shownAtPause = await counter(page, 'shown')
    const receivedAtPause = await counter(page, 'received')
    const lastAtPause = (await rows(page)).at(-1)?.id
    await page.waitForFunction(
      (n) => Number(document.querySelector('#count-received')?.textContent) >= n + 10,
      receivedAtPause,
    )
    t.equal(await counter(page, 'shown'), shownAtPause, 'paused: the table shows no more entries')
    t.equal((await rows(page)).at(-1)?.id, lastAtPause, 'paused: the last row is the same')
    t.ok((await counter(page, 'waiting')) >= 10, 'while the entries received meanwhile wait')
    await page.click('#pause')
    await page.waitForFunction(
      (n) => Number(document.querySelector('#count-shown')?.textContent) > n + 9,
      shownAtPause,
    )
    t.ok(((await rows(page)).at(-1)?.id ?? 0) > (lastAtPause ?? 0), 'resumed: the waiting entries show')

    // The table is virtualised, and follows the newest entry.
    await page.waitForFunction(() => Number(document.querySelector('#count-shown')?.textContent) >= 100)
    const dom = await page.evaluate(() => {
      const all = [...document.querySelectorAll<HTMLElement>('.row.entry')]
      const viewport = document.querySelector('#viewport')?.getBoundingClientRect()
      const last = all.at(-1)?.getBoundingClientRect()
      return {
        inDom: all.length,
        shown: Number(document.querySelector('#count-shown')?.textContent),
        lastInSight:
          last !== undefined &&
          viewport !== undefined &&
          last.top < viewport.bottom &&
          last.bottom > viewport.top,
      }
    })
    t.ok(dom.inDom < dom.shown, `only the rows in sight are in the DOM (${dom.inDom} of ${dom.shown})`)
    t.ok(dom.lastInSight, 'the newest row is in sight')

    // The producer panel: a producer killed with SIGKILL shows as exited, with what was salvaged.
    const victim = await app.producer('victim', 0, 40)
    const pid = victim.child.pid as number
    await page.waitForSelector(`#producers tr[data-pid="${pid}"][data-state="alive"]`, { timeout: 30_000 })
    t.pass('the panel shows the new producer alive')
    victim.child.kill('SIGKILL')
    await exited(victim.child)
    await page.waitForSelector(`#producers tr[data-pid="${pid}"][data-state="exited"]`, { timeout: 60_000 })
    const text = await page.textContent(`#producers tr[data-pid="${pid}"]`)
    t.match(text, /exited, \d+ salvaged/, 'the panel shows it exited, with the count salvaged from its ring')
    t.match(
      (await page.textContent(`#producers tr[data-pid="${live.child.pid}"]`)) ?? '',
      /alive/,
      'the other producer is still alive',
    )
    const legend = await page.$$eval('#legend li', (els) => els.map((e) => e.textContent))
    t.ok(
      legend.includes('live · error') && legend.includes('live · info'),
      'the rate chart has a series per source and level',
    )

    // A click on a row shows its fields (once the stream is quiet, so the row stays where it is).
    live.child.kill('SIGTERM')
    await exited(live.child)
    await page.waitForSelector(`#producers tr[data-pid="${live.child.pid}"][data-state="exited"]`, {
      timeout: 60_000,
    })
    await page.click('.row.entry[data-source="live"][data-level="error"] >> nth=-1')
    await page.waitForSelector('#details:not([hidden])')
    const details = JSON.parse((await page.textContent('#details')) ?? '{}') as { fields?: { i?: number } }
    t.equal(typeof details.fields?.i, 'number', "the row's fields show when it is clicked")

    const artifacts = tempDir('logkit-http-screenshot-')
    const shot = join(artifacts, 'web-view.png')
    await page.screenshot({ path: shot })
    t.ok(statSync(shot).size > 10_000, `a screenshot was saved (${shot})`)
    const keep = process.env['LOGKIT_SCREENSHOT']
    if (keep !== undefined && keep !== '') await page.screenshot({ path: keep })
    t.same(problems, [], 'the page logged no error and threw nothing (CSP included)')

    live.child.kill('SIGTERM')
    compose.child.kill('SIGTERM')
    await exited(compose.child)
    t.equal(compose.child.exitCode, 0, 'compose shut down cleanly')
  },
)

t.test(
  'with a token: the link with ?token= opens the page, the stream runs on the HttpOnly cookie',
  async (t) => {
    const token = 'browser-token-0123456789abcdef'
    const sink = await createHttpSink({ port: 0, token })
    t.teardown(() => sink.close())
    sink.write(
      Array.from({ length: 5 }, (_, k) => createEntry({ msg: `kept ${k + 1}`, source: 'tok', seq: k + 1 })),
    )
    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] })
    t.teardown(() => browser.close())
    const page = await browser.newPage()
    const denied = await page.goto(sink.server.url)
    t.equal(denied?.status(), 401, 'without the token the page is 401')
    // The link answers a page that sets the cookie and refreshes to the bare address.
    await page.goto(`${sink.server.url}?token=${token}`)
    await page.waitForURL(sink.server.url)
    t.equal(page.url(), sink.server.url, 'the address bar has lost the token')
    await page.waitForSelector('#state[data-state="live"]')
    t.equal((await rows(page)).length, 5, 'EventSource got the stream with the cookie')
    t.equal(await page.evaluate(() => document.cookie), '', "the page's script cannot read the token")
    sink.write([createEntry({ msg: 'live one', source: 'tok', seq: 6 })])
    await page.waitForFunction(() => document.querySelectorAll('.row.entry').length === 6)
    t.pass('and live entries follow')
  },
)
