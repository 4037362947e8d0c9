// The link layer's public surface: the Link interface and the link conditioner.
export * from './conditioner.js';
export * from './link.js';
