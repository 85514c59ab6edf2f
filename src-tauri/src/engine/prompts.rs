//! The prompts agents see, in CrewAI's wording, and how to read a task prompt back.
//!
//! The task prompt has a fixed structure (the offline model parses it back with
//! [`parse_task_prompt`]):
//!
//! ```text
//! Current Task: <description>
//!
//! This is the expected criteria for your final answer: <expected output>
//! you MUST return the actual complete content as the final answer, not a summary.
//!
//! This is the context you're working with:      (only when there is context)
//! <context>
//!
//! Begin! This is VERY important to you, use the tools available and give your best Final Answer, your job depends on it!
//!
//! Thought:
//! ```

/// Starts the task description.
pub const TASK_MARKER: &str = "Current Task: ";
/// Separates the description from the expected output.
pub const EXPECTED_MARKER: &str = "\n\nThis is the expected criteria for your final answer: ";
/// Ends the expected output.
pub const EXPECTED_END: &str = "\nyou MUST return the actual complete content as the final answer, not a summary.";
/// Starts the context block.
pub const CONTEXT_MARKER: &str = "\n\nThis is the context you're working with:\n";
/// Ends the prompt.
pub const BEGIN: &str = "\n\nBegin! This is VERY important to you, use the tools available and give your best Final Answer, your job depends on it!\n\nThought:";
/// Separates task outputs inside the context block (as CrewAI does).
pub const CONTEXT_SEPARATOR: &str = "\n\n----------\n\n";
/// Prefixes a tool result fed back in the ReAct text form.
pub const OBSERVATION: &str = "Observation: ";
/// Asks for the final answer once `max_iter` is reached (CrewAI's wording).
pub const FORCE_FINAL_ANSWER: &str = "Now it's time you MUST give your absolute best final answer. You'll ignore all previous instructions, stop using any tools, and just return your absolute BEST Final answer.";
/// The expected output of a delegated piece of work (CrewAI's wording).
pub const DELEGATED_EXPECTED_OUTPUT: &str = "Your best answer to your coworker asking you this, accounting for the context shared.";

/// The built-in hierarchical manager's role, goal and backstory (CrewAI's).
pub const MANAGER_ROLE: &str = "Crew Manager";
pub const MANAGER_GOAL: &str = "Manage the team to complete the task in the best way possible.";
pub const MANAGER_BACKSTORY: &str = "You are a seasoned manager with a knack for getting the best out of your team.\nYou are also known for your ability to delegate work to the right people, and to ask the right questions to get the best out of your team.\nEven though you don't perform tasks by yourself, you have a lot of experience in the field, which allows you to properly evaluate the work of your team members.";

/// The system prompt for an agent: who it is, and how to answer (with or without tools).
pub fn system_prompt(role: &str, goal: &str, backstory: &str, tool_names: &[String]) -> String {
    let mut out = format!("You are {role}. {backstory}\nYour personal goal is: {goal}");
    if tool_names.is_empty() {
        out.push_str(
            "\nTo give my best complete final answer to the task respond using the exact following format:\n\n\
             Thought: I now can give a great answer\n\
             Final Answer: Your final answer must be the great and the most complete as possible, it must be outcome described.\n\n\
             I MUST use these formats, my job depends on it!",
        );
    } else {
        out.push_str(&format!(
            "\nYou ONLY have access to the following tools, and should NEVER make up tools that are not listed here: {}\n\
             Call them through the tools interface. If you cannot, use this format:\n\n\
             Thought: you should always think about what to do\n\
             Action: the action to take, only one name of [{}], just the name, exactly as it's written.\n\
             Action Input: the input to the action, just a simple JSON object\n\
             Observation: the result of the action\n\n\
             Once all necessary information is gathered, return the following format:\n\n\
             Thought: I now know the final answer\n\
             Final Answer: the final answer to the original input question",
            tool_names.join(", "),
            tool_names.join(", "),
        ));
    }
    out
}

/// The user prompt for a task; `context` is empty when there is none.
pub fn task_prompt(description: &str, expected_output: &str, context: &str) -> String {
    let mut out = format!("{TASK_MARKER}{description}{EXPECTED_MARKER}{expected_output}{EXPECTED_END}");
    if !context.trim().is_empty() {
        out.push_str(CONTEXT_MARKER);
        out.push_str(context);
    }
    out.push_str(BEGIN);
    out
}

/// A task prompt read back into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskPrompt {
    pub description: String,
    pub expected_output: String,
    /// Empty when the prompt has no context block.
    pub context: String,
}

/// Reads a prompt made by [`task_prompt`] back into its parts; `None` if `text` is not one.
pub fn parse_task_prompt(text: &str) -> Option<TaskPrompt> {
    let start = text.find(TASK_MARKER)? + TASK_MARKER.len();
    let rest = &text[start..];
    let exp = rest.find(EXPECTED_MARKER)?;
    let description = rest[..exp].to_string();
    let rest = &rest[exp + EXPECTED_MARKER.len()..];
    let end = rest.find(EXPECTED_END)?;
    let expected_output = rest[..end].to_string();
    let rest = &rest[end + EXPECTED_END.len()..];
    let body = rest.strip_suffix(BEGIN).unwrap_or(rest);
    let context = body.strip_prefix(CONTEXT_MARKER).unwrap_or("").to_string();
    Some(TaskPrompt { description, expected_output, context })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_prompt_round_trips() {
        let p = task_prompt("Research Rust.\nBe thorough.", "A list of five findings", "earlier output");
        assert_eq!(
            parse_task_prompt(&p),
            Some(TaskPrompt {
                description: "Research Rust.\nBe thorough.".into(),
                expected_output: "A list of five findings".into(),
                context: "earlier output".into()
            })
        );
        let p = task_prompt("d", "e", "");
        assert_eq!(parse_task_prompt(&p).unwrap().context, "");
        assert!(parse_task_prompt("hello").is_none());
    }

    #[test]
    fn system_prompt_mentions_identity_and_format() {
        let s = system_prompt("Researcher", "find facts", "You love facts.", &[]);
        assert!(s.starts_with("You are Researcher. You love facts.\nYour personal goal is: find facts"));
        assert!(s.contains("Final Answer:"));
        let s = system_prompt("R", "g", "b", &["read_file".to_string()]);
        assert!(s.contains("Action Input:") && s.contains("read_file"));
    }
}
