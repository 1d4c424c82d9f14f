//! The viewer's controls as plain state: pause, single step, speed (env steps per frame, also
//! below one), which env is shown, how actions are chosen, and messages to show.

/// How the viewed envs get their actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drive {
    /// Uniform random actions.
    Random,
    /// All zero.
    Zero,
    /// The sliders (one per action dimension), for every env.
    Sliders,
    /// A trained policy's deterministic action (an opened run).
    Policy,
}

/// Speeds the viewer offers, in env steps per frame.
pub const SPEEDS: [f64; 10] = [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

/// The viewer's control state.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewerState {
    /// Stepping stopped.
    pub paused: bool,
    /// Index into [`SPEEDS`].
    pub speed: usize,
    /// One env enlarged, or `None` for the grid of all.
    pub selected: Option<usize>,
    /// Action source.
    pub drive: Drive,
    /// Slider values, one per action dimension, in the action box.
    pub sliders: Vec<f32>,
    /// Messages (errors) to show, newest last.
    pub messages: Vec<String>,
    /// Env steps done.
    pub steps: u64,
    budget: f64,
    single: bool,
}

impl ViewerState {
    /// Running at one env step per frame, grid view, random actions.
    pub fn new(action_dim: usize) -> Self {
        Self {
            paused: false,
            speed: 3,
            selected: None,
            drive: Drive::Random,
            sliders: vec![0.0; action_dim],
            messages: Vec::new(),
            steps: 0,
            budget: 0.0,
            single: false,
        }
    }

    /// Env steps per frame at the current speed.
    pub fn steps_per_frame(&self) -> f64 {
        SPEEDS[self.speed]
    }

    /// Doubles the speed (up to the fastest).
    pub fn faster(&mut self) {
        self.speed = (self.speed + 1).min(SPEEDS.len() - 1);
    }

    /// Halves the speed (down to the slowest).
    pub fn slower(&mut self) {
        self.speed = self.speed.saturating_sub(1);
    }

    /// Pauses and asks for exactly one step at the next frame.
    pub fn single_step(&mut self) {
        self.paused = true;
        self.single = true;
    }

    /// How many env steps to run this frame (fractional speeds accumulate over frames).
    pub fn steps_this_frame(&mut self) -> u32 {
        if self.single {
            self.single = false;
            return 1;
        }
        if self.paused {
            return 0;
        }
        self.budget += self.steps_per_frame();
        let n = self.budget.floor();
        self.budget -= n;
        n as u32
    }

    /// Records that `n` steps were run.
    pub fn stepped(&mut self, n: u32) {
        self.steps += n as u64;
    }

    /// Shows an error; stepping pauses so the state that caused it stays on screen.
    pub fn report(&mut self, message: String) {
        self.paused = true;
        self.messages.push(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractional_speeds_accumulate_and_pause_stops() {
        let mut s = ViewerState::new(1);
        assert_eq!(s.steps_this_frame(), 1);
        s.slower();
        s.slower();
        assert_eq!(s.steps_per_frame(), 0.25);
        let steps: u32 = (0..8).map(|_| s.steps_this_frame()).sum();
        assert_eq!(steps, 2, "a quarter step per frame");
        for _ in 0..20 {
            s.faster();
        }
        assert_eq!(s.steps_this_frame(), 64);
        s.paused = true;
        assert_eq!(s.steps_this_frame(), 0);
    }

    #[test]
    fn single_step_runs_exactly_one_and_stays_paused() {
        let mut s = ViewerState::new(3);
        s.single_step();
        assert_eq!((s.steps_this_frame(), s.steps_this_frame(), s.paused), (1, 0, true));
    }

    #[test]
    fn an_error_pauses_and_is_kept() {
        let mut s = ViewerState::new(1);
        s.report("physics blew up".into());
        assert!(s.paused);
        assert_eq!(s.messages, vec!["physics blew up".to_string()]);
    }
}
