// Keyboard steering for the arena: arrows or WASD give a direction; space fires a mark.

const AXES: Record<string, [number, number]> = {
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
  KeyA: [-1, 0],
  KeyD: [1, 0],
  KeyW: [0, -1],
  KeyS: [0, 1],
};

export interface Keys {
  /** The current direction, each axis in [-1, 1], diagonals normalised. */
  direction(): { dx: number; dy: number };
}

/** Listens on `target` for steering keys; calls `onMark` on space. */
export function listenKeys(target: Window, onMark: () => void): Keys {
  const down = new Set<string>();
  target.addEventListener('keydown', (event) => {
    if (event.code === 'Space') {
      if (!event.repeat) onMark();
      event.preventDefault();
    } else if (event.code in AXES) {
      down.add(event.code);
      event.preventDefault();
    }
  });
  target.addEventListener('keyup', (event) => down.delete(event.code));
  // Keys released while the window is not focused never send keyup.
  target.addEventListener('blur', () => down.clear());
  return {
    direction() {
      let dx = 0;
      let dy = 0;
      for (const code of down) {
        const [x, y] = AXES[code]!;
        dx += x;
        dy += y;
      }
      dx = Math.sign(dx);
      dy = Math.sign(dy);
      const length = Math.hypot(dx, dy);
      return length > 1 ? { dx: dx / length, dy: dy / length } : { dx, dy };
    },
  };
}
