// Drives the system Chromium through hintd's hint panel for tests/panel.rs.
//
//   node panel.cjs PLAN.json
//
// The plan (written by the Rust test) names the loopback parent page, the panel URLs and
// where screenshots go. Steps the browser cannot do itself (ingesting a webhook, stopping
// hintd) are asked of the test: this script prints `ASK <what>` and waits for a line on
// stdin. It prints `RESULT <json>` with what it saw and exits 0; any failure exits 1.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');

const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { chromium } = require(path.join(plan.node_modules, 'playwright-core'));

const lines = readline.createInterface({ input: process.stdin });
const answers = [];
let waiting = null;
lines.on('line', (l) => (waiting ? (waiting(l), (waiting = null)) : answers.push(l)));

function ask(what) {
  process.stdout.write(`ASK ${what}\n`);
  return new Promise((resolve) => {
    if (answers.length) resolve(answers.shift());
    else waiting = resolve;
  });
}

const result = { offHost: [], steps: {} };

function loopback(url) {
  try {
    const u = new URL(url);
    return ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) || u.protocol === 'data:' || u.protocol === 'about:';
  } catch (e) {
    return url.startsWith('data:') || url.startsWith('about:') || url.startsWith('blob:');
  }
}

async function open(context, panelUrl, extra, parentOrigin) {
  const page = await context.newPage();
  // Anything not on loopback is refused and reported: the panel must need nothing else.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (loopback(url)) return route.continue();
    result.offHost.push(url);
    return route.abort();
  });
  const q = new URLSearchParams(Object.assign({ panel: panelUrl }, extra || {}));
  const weight = { bytes: 0, requests: 0 };
  page.on('requestfinished', async (req) => {
    if (!req.url().startsWith(plan.hintd + '/panel') || req.url().includes('/panel/api/events')) return;
    try {
      const s = await req.sizes();
      weight.bytes += s.responseBodySize + s.responseHeadersSize;
      weight.requests += 1;
    } catch (e) { /* the page went away */ }
  });
  await page.goto(`${parentOrigin || plan.parent}/parent.html?${q}`);
  const frame = page.frameLocator('#app');
  const handle = await page.locator('#app').elementHandle();
  return { page, frame, weight, inner: async () => handle.contentFrame() };
}

async function state(frame, name) {
  try {
    await frame.locator(`#state[data-state="${name}"]`).waitFor({ state: 'attached', timeout: 15000 });
  } catch (e) {
    const now = await frame.locator('#state').getAttribute('data-state').catch(() => '?');
    const shown = await frame.locator('body').innerText().catch(() => '?');
    throw new Error(`waiting for state ${name}: the panel is in state ${now}: ${shown}`);
  }
}

async function shot(page, name) {
  await page.locator('#app').screenshot({ path: path.join(plan.docs, `panel-${name}.png`) });
}

async function texts(frame) {
  return frame.locator('#hints li .text').allInnerTexts();
}

// The shown hints with their plugin and relevance.
async function rows(frame) {
  return frame.locator('#hints li').evaluateAll((items) => items.map((li) => ({
    text: li.querySelector('.text').textContent,
    plugin: li.querySelector('.plugin').textContent,
    relevance: parseInt(li.querySelector('.relevance').textContent, 10),
  })));
}

async function main() {
  const browser = await chromium.launch({
    executablePath: plan.chromium,
    args: ['--no-proxy-server', '--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  });
  const context = await browser.newContext({
    permissions: ['clipboard-read', 'clipboard-write'],
    locale: plan.locale || 'en-US',
    viewport: { width: 460, height: 600 },
  });

  // 1. Inside "Chatwoot": hints of the conversation the parent names.
  const started = Date.now();
  const main = await open(context, plan.panel.shop, { conversation: plan.conversation, account_id: 1 });
  await main.frame.locator('#hints li').first().waitFor({ timeout: 15000 });
  const inner = await main.inner();
  result.steps.shown = {
    dialog: await main.frame.locator('#dialog').innerText(),
    hints: await texts(main.frame),
    plugins: await main.frame.locator('#hints li .plugin').allInnerTexts(),
    first_hints_ms: Number(await inner.evaluate(() => document.documentElement.dataset.firstHintsMs)),
    wall_ms: Date.now() - started,
    fetch_info_requests: await main.page.evaluate(() => window.fetchInfoRequests),
    lang: await inner.evaluate(() => document.documentElement.lang),
  };
  await shot(main.page, 'hints');
  result.steps.weight = Object.assign({}, main.weight);

  // 2. A new client message through the real webhook updates the panel without a reload.
  await inner.evaluate(() => { window.notReloaded = true; });
  const askedAt = Date.now();
  await ask('ingest_new_message');
  // The earlier hints may include the expected one further down: wait for it on top.
  await inner.waitForFunction((expected) => {
    const top = document.querySelector('#hints li .text');
    return top !== null && top.textContent.startsWith(expected);
  }, plan.expect_after_update, { timeout: 15000 });
  result.steps.updated = {
    hints: await texts(main.frame),
    same_document: await inner.evaluate(() => window.notReloaded === true),
    after_ms: Date.now() - askedAt,
  };

  // 3. A click copies the first hint and records the choice; key 2 picks the second.
  const first = main.frame.locator('#hints li').first();
  await first.locator('.pick').click();
  await main.frame.locator('#hints li[data-feedback]').first().waitFor({ timeout: 10000 });
  result.steps.clicked = {
    hint: (await texts(main.frame))[0],
    clipboard: await inner.evaluate(() => navigator.clipboard.readText()),
    recorded: await first.getAttribute('data-recorded'),
    feedback: JSON.parse((await first.getAttribute('data-feedback')) || '[]'),
    toast: await main.frame.locator('#toast').innerText(),
  };
  await shot(main.page, 'copied');
  const count = await main.frame.locator('#hints li').count();
  if (count > 1) {
    await main.page.keyboard.press('2');
    const second = main.frame.locator('#hints li').nth(1);
    await main.frame.locator('#hints li:nth-child(2)[data-recorded]').waitFor({ timeout: 10000 });
    result.steps.key2 = {
      hint: (await texts(main.frame))[1],
      clipboard: await inner.evaluate(() => navigator.clipboard.readText()),
      recorded: await second.getAttribute('data-recorded'),
    };
  }

  // 4. Edit, then copy: the edited text is copied and the choice recorded as edited.
  const last = main.frame.locator('#hints li').last();
  await last.locator('.edit').click();
  await last.locator('textarea').fill(plan.edited_text);
  await shot(main.page, 'edit');
  await last.locator('.copy-edited').click();
  await main.frame.locator('#hints li:last-child[data-recorded]').waitFor({ timeout: 10000 });
  result.steps.edited = {
    clipboard: await inner.evaluate(() => navigator.clipboard.readText()),
    recorded: await last.getAttribute('data-recorded'),
  };

  // 5. A choice reaches `replies` and changes its ranking. The test taught `replies` two
  // answers to the question of conversation `ranked` (tests/panel.rs has the ranking math):
  // the lower-ranked one is clicked, then a new client message is ranked again.
  const ranked = await open(context, plan.panel.shop, { conversation: plan.ranked.conversation, account_id: 1 });
  const rankedFrame = await ranked.inner();
  // The first load renders, then the event stream's `ready` loads and renders again: after
  // both, the next render can only be the push of the next client message.
  await rankedFrame.waitForFunction(() => Number(document.documentElement.dataset.renders || 0) >= 2, null, { timeout: 15000 });
  const before = await rows(ranked.frame);
  const learned = before.filter((h) => h.plugin.endsWith('replies') && plan.ranked.replies.includes(h.text));
  if (learned.length !== 2) throw new Error(`both learned replies expected in the panel: ${JSON.stringify(before)}`);
  const lower = learned[1].text;
  const index = before.findIndex((h) => h.text === lower);
  const lowerItem = ranked.frame.locator('#hints li').nth(index);
  await lowerItem.locator('.pick').click();
  await ranked.frame.locator(`#hints li:nth-child(${index + 1})[data-feedback]`).waitFor({ timeout: 10000 });
  result.steps.ranked = {
    before,
    chosen: lower,
    clipboard: await rankedFrame.evaluate(() => navigator.clipboard.readText()),
    recorded: await lowerItem.getAttribute('data-recorded'),
    feedback: JSON.parse((await lowerItem.getAttribute('data-feedback')) || '[]'),
  };
  const rendersBefore = Number(await rankedFrame.evaluate(() => document.documentElement.dataset.renders));
  await ask('ingest_ranked_question');
  await rankedFrame.waitForFunction((n) => Number(document.documentElement.dataset.renders || 0) > n, rendersBefore, { timeout: 10000 });
  result.steps.ranked.after = await rows(ranked.frame);
  await ranked.page.close();

  // 6. Latency from a client message's webhook to its hints visible in an open panel.
  const bench = await open(context, plan.panel.shop, { conversation: plan.bench_conversation, account_id: 1 });
  await state(bench.frame, 'nomessage');
  const benchFrame = await bench.inner();
  const samples = [];
  for (let i = 0; i < plan.bench_messages; i++) {
    const renders = Number(await benchFrame.evaluate(() => document.documentElement.dataset.renders || 0));
    const sentAt = Date.now();
    await ask('ingest_bench_message');
    await benchFrame.waitForFunction((n) => Number(document.documentElement.dataset.renders || 0) > n, renders, { timeout: 10000 });
    const renderedAt = Number(await benchFrame.evaluate(() => document.documentElement.dataset.renderedAt));
    samples.push(renderedAt - sentAt);
  }
  samples.sort((a, b) => a - b);
  const pick = (q) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)];
  result.steps.latency = { n: samples.length, p50_ms: pick(0.5), p99_ms: pick(0.99), max_ms: samples[samples.length - 1] };
  await bench.page.close();

  // 7. The other states, each with its screenshot.
  const waiting = await open(context, plan.panel.shop, { conversation: plan.conversation, account_id: 1, silent: 1 });
  await state(waiting.frame, 'waiting');
  await shot(waiting.page, 'loading');
  await waiting.page.close();

  const none = await open(context, plan.panel.shop, { conversation: plan.unknown_conversation, account_id: 1 });
  await state(none.frame, 'nomessage');
  await shot(none.page, 'no-hints');
  await none.page.close();

  const failed = await open(context, plan.panel.shop, { conversation: plan.failing_conversation, account_id: 1 });
  await state(failed.frame, 'failed');
  result.steps.failed = { text: await failed.frame.locator('#state').innerText() };
  await shot(failed.page, 'failed');
  await failed.page.close();

  const wrong = await open(context, plan.panel.wrong, { conversation: plan.conversation, account_id: 1 });
  await state(wrong.frame, 'refused');
  result.steps.refused = { text: await wrong.frame.locator('#state').innerText() };
  await shot(wrong.page, 'refused');
  await wrong.page.close();

  // The shop's token, but Chatwoot says the conversation is the bank's (account 2).
  const other = await open(context, plan.panel.shop, { conversation: plan.conversation, account_id: 2 });
  await state(other.frame, 'forbidden');
  result.steps.other_account = { text: await other.frame.locator('#state').innerText() };
  await shot(other.page, 'forbidden');
  await other.page.close();

  // A page of an origin that is not in `panel_frame_ancestors` cannot frame the panel.
  const stranger = await open(context, plan.panel.shop, { conversation: plan.conversation, account_id: 1 }, plan.parent_unlisted);
  await stranger.page.waitForTimeout(1500);
  const strangerFrame = await stranger.inner();
  result.steps.unlisted = {
    frame_url: strangerFrame ? strangerFrame.url() : null,
    panel_rendered: await stranger.frame.locator('#state').count(),
  };
  await stranger.page.close();

  // Outside Chatwoot: the dialog from the URL, in Portuguese.
  const direct = await context.newPage();
  await direct.goto(plan.panel.direct);
  await direct.locator('#hints li').first().waitFor({ timeout: 15000 });
  const hintsBefore = await direct.locator('#hints li .text').allInnerTexts();
  // Refresh asks the plugins again (a fresh answer, same hints for the same message).
  const refreshed = direct.waitForResponse((r) => r.url().includes('/panel/api/hints') && r.url().includes('fresh=true'));
  await direct.locator('#refresh').click();
  const refreshStatus = (await refreshed).status();
  // Keyboard only: Tab to the first hint (after Refresh), Enter picks it.
  await direct.locator('#hints li').first().waitFor();
  await direct.locator('#refresh').focus();
  await direct.keyboard.press('Tab');
  const focused = await direct.evaluate(() => document.activeElement && document.activeElement.className);
  await direct.keyboard.press('Enter');
  await direct.locator('#hints li.chosen').first().waitFor({ timeout: 10000 });
  result.steps.direct = {
    hints: hintsBefore,
    refresh_status: refreshStatus,
    tab_focus: focused,
    toast: await direct.locator('#toast').innerText(),
    title: await direct.locator('.title').innerText(),
    lang: await direct.evaluate(() => document.documentElement.lang),
  };
  await direct.close();

  // 8. hintd stops: the open panel says it cannot reach it.
  await ask('stop_hintd');
  await state(main.frame, 'unreachable');
  result.steps.unreachable = { text: await main.frame.locator('#state').innerText() };
  await shot(main.page, 'unreachable');

  await browser.close();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

const deadline = setTimeout(() => {
  process.stderr.write('panel.cjs: no result within 120 s\n');
  process.exit(1);
}, 120000);

main().then(
  () => { clearTimeout(deadline); process.exit(0); },
  (e) => { process.stderr.write(`panel.cjs: ${e && e.stack ? e.stack : e}\nsteps so far: ${JSON.stringify(result)}\n`); process.exit(1); }
);
