// Canvas drawing for the arena: the world square scaled to the window, players as named dots, mark rings.
import { WORLD } from '../protocol.js';

export interface Sprite {
  id: number;
  name: string;
  online: boolean;
  /** Latest server position. */
  x: number;
  y: number;
  /** Drawn position, eased toward (x, y) every frame. */
  drawX: number;
  drawY: number;
}

export interface Ring {
  x: number;
  y: number;
  hue: number;
  /** performance.now() when it was fired. */
  born: number;
}

const RING_MS = 900;
const DOT = 14;

/** A stable colour per player id. */
export const hueOf = (id: number): number => (id * 137.508) % 360;

/** Resizes the canvas backing store to the window (device pixels) and returns the world→pixel mapping. */
function layout(canvas: HTMLCanvasElement): { scale: number; ox: number; oy: number } {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.floor(canvas.clientWidth * ratio);
  const height = Math.floor(canvas.clientHeight * ratio);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const margin = 24 * ratio;
  const scale = Math.max(0.05, (Math.min(width, height) - 2 * margin) / WORLD);
  return { scale, ox: (width - WORLD * scale) / 2, oy: (height - WORLD * scale) / 2 };
}

/** Draws one frame; eases sprites toward their server positions and forgets finished rings. */
export function draw(
  canvas: HTMLCanvasElement,
  sprites: Iterable<Sprite>,
  me: number,
  rings: Ring[],
  now: number,
): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { scale, ox, oy } = layout(canvas);
  const ratio = window.devicePixelRatio || 1;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = '#10131a';
  ctx.fillRect(0, 0, canvas.width, canvas.height);

  // The arena floor and a 100-unit grid.
  ctx.setTransform(scale, 0, 0, scale, ox, oy);
  ctx.fillStyle = '#171c26';
  ctx.fillRect(0, 0, WORLD, WORLD);
  ctx.strokeStyle = '#222a38';
  ctx.lineWidth = 1 / scale;
  ctx.beginPath();
  for (let v = 100; v < WORLD; v += 100) {
    ctx.moveTo(v, 0);
    ctx.lineTo(v, WORLD);
    ctx.moveTo(0, v);
    ctx.lineTo(WORLD, v);
  }
  ctx.stroke();
  ctx.strokeStyle = '#4c566a';
  ctx.lineWidth = 2 / scale;
  ctx.strokeRect(0, 0, WORLD, WORLD);

  for (let i = rings.length - 1; i >= 0; i--) {
    const ring = rings[i]!;
    // A ring born after this frame's timestamp (rAF's time can trail performance.now()) starts at age 0.
    const age = Math.max(0, (now - ring.born) / RING_MS);
    if (age >= 1) {
      rings.splice(i, 1);
      continue;
    }
    ctx.strokeStyle = `hsla(${ring.hue}, 80%, 65%, ${1 - age})`;
    ctx.lineWidth = 3 / scale;
    ctx.beginPath();
    ctx.arc(ring.x, ring.y, DOT + age * 90, 0, Math.PI * 2);
    ctx.stroke();
  }

  // Dots and names, in screen pixels so text stays crisp at any scale.
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.font = `${13 * ratio}px ui-monospace, Menlo, Consolas, monospace`;
  const radius = Math.max(5 * ratio, DOT * scale);
  for (const sprite of sprites) {
    sprite.drawX += (sprite.x - sprite.drawX) * 0.35;
    sprite.drawY += (sprite.y - sprite.drawY) * 0.35;
    const px = ox + sprite.drawX * scale;
    const py = oy + sprite.drawY * scale;
    ctx.globalAlpha = sprite.online ? 1 : 0.35;
    ctx.fillStyle = `hsl(${hueOf(sprite.id)}, 70%, 60%)`;
    ctx.beginPath();
    ctx.arc(px, py, radius, 0, Math.PI * 2);
    ctx.fill();
    if (sprite.id === me) {
      ctx.strokeStyle = '#eceff4';
      ctx.lineWidth = 2 * ratio;
      ctx.stroke();
    }
    ctx.fillStyle = '#eceff4';
    const label = sprite.online ? sprite.name : `${sprite.name} (away)`;
    ctx.fillText(label, px, py - radius - 4 * ratio);
  }
  ctx.globalAlpha = 1;
}
