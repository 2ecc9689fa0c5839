// Telling the agent an offer came: a short chime, and a system notification while the
// tab is hidden (permission asked on the first click, as browsers require).

let audio = null;

export function askPermissionOnFirstClick() {
  if (!("Notification" in window) || Notification.permission !== "default") return;
  document.addEventListener(
    "click",
    () => {
      Notification.requestPermission().catch(() => {});
    },
    { once: true },
  );
}

export function chime() {
  try {
    audio = audio || new AudioContext();
    const now = audio.currentTime;
    for (const [offset, frequency] of [[0, 880], [0.16, 1320]]) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.2, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.25);
      tone.connect(gain).connect(audio.destination);
      tone.start(now + offset);
      tone.stop(now + offset + 0.3);
    }
  } catch {
    // no sound device, or audio not allowed before a user gesture: the offer still shows
  }
}

export function notifyIfHidden(title, body) {
  if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") {
    return;
  }
  const note = new Notification(title, { body, tag: "opencx-offer" });
  note.addEventListener("click", () => {
    window.focus();
    note.close();
  });
}
