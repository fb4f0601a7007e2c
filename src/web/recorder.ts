// Microphone recording for the page: MediaRecorder (developer.mozilla.org/docs/Web/API/MediaRecorder)
// records until the button is pressed again; the recording (WebM/Opus in Chromium) is then translated
// like a dropped file, through the browser's decoder (./audio-input.ts).
export function recordButton(button: HTMLButtonElement, onRecording: (bytes: Uint8Array) => Promise<void>): void {
  if (typeof MediaRecorder === "undefined" || navigator.mediaDevices?.getUserMedia === undefined) {
    button.title = "this browser cannot record here";
    return;
  }
  button.disabled = false;
  let recorder: MediaRecorder | null = null;
  button.addEventListener("click", async () => {
    if (recorder !== null) {
      recorder.stop();
      return;
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      button.textContent = `No microphone (${err instanceof Error ? err.message : String(err)})`;
      return;
    }
    const parts: Blob[] = [];
    const rec = new MediaRecorder(stream);
    recorder = rec;
    rec.addEventListener("dataavailable", (e) => parts.push(e.data));
    rec.addEventListener("stop", async () => {
      recorder = null;
      for (const track of stream.getTracks()) track.stop();
      button.textContent = "Record from the microphone";
      const blob = new Blob(parts, { type: rec.mimeType });
      await onRecording(new Uint8Array(await blob.arrayBuffer()));
    });
    rec.start();
    button.textContent = "Stop and translate";
  });
}
