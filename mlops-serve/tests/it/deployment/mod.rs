//! Deployments, routing and rollouts, in virtual time unless a test says otherwise.

mod support;

mod ab;
mod blue_green;
mod canary;
mod events;
mod gates;
mod hot_swap;
mod registry;
mod routing;
mod shadow;
