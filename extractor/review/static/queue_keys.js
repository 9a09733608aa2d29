// Keys in the review queue (a Streamlit components v2 module with no markup of its own):
// j / ↓ moves to the next report, k / ↑ to the previous one, Enter opens it (the focused
// button's own click). The report buttons are Streamlit buttons whose widget keys start
// with rv_queue_open_ (Streamlit marks each keyed element with an st-key-<key> class).
// The queue shows one page of reports at a time: past a page's last report j presses
// 下一页 (and k past its first presses 上一页), then focuses the new page's first (or last)
// report once Streamlit has drawn it.

const REPORT_BUTTONS = '[class*="st-key-rv_queue_open_"] button';
const PAGE_BUTTONS = { 1: ".st-key-rv_queue_next_page button", [-1]: ".st-key-rv_queue_previous_page button" };
const STEPS = { j: 1, ArrowDown: 1, k: -1, ArrowUp: -1 };
const PAGE_WAIT_MS = 10000;

function focusReport(button) {
  button.focus();
  button.scrollIntoView({ block: "nearest" });
}

// After a page button's click: wait (each frame) until the report buttons are another
// page's, then focus its first report (going forward) or its last (going back).
function focusWhenTurned(before, step) {
  const until = performance.now() + PAGE_WAIT_MS;
  const check = () => {
    const buttons = [...document.querySelectorAll(REPORT_BUTTONS)];
    const turned = buttons.length && !buttons.some((b) => b.textContent === before);
    if (turned) focusReport(buttons[step > 0 ? 0 : buttons.length - 1]);
    else if (performance.now() < until) requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  const step = STEPS[event.key];
  if (step === undefined) return;
  const buttons = [...document.querySelectorAll(REPORT_BUTTONS)];
  if (!buttons.length) return;
  const at = buttons.indexOf(document.activeElement);
  event.preventDefault();
  if (at >= 0 && (at + step < 0 || at + step >= buttons.length)) {
    const turn = document.querySelector(PAGE_BUTTONS[step]);
    if (turn && !turn.disabled) {
      focusWhenTurned(buttons[at].textContent, step);
      turn.click();
    }
    return;
  }
  // From outside the list, j starts at the first report and k at the last.
  focusReport(buttons[at < 0 ? (step > 0 ? 0 : buttons.length - 1) : at + step]);
}

// The page says when the keys work (the module loads after the script run that asks for
// it): data-queue-keys on <html>, which a test waits for instead of guessing a delay.
export default function () {
  document.addEventListener("keydown", onKey);
  document.documentElement.dataset.queueKeys = "on";
  return () => {
    document.removeEventListener("keydown", onKey);
    delete document.documentElement.dataset.queueKeys;
  };
}
