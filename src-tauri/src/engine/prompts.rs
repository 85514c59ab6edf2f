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

/// Starts the schema instructions appended to a structured task's expected output (CrewAI's
/// `formatted_task_instructions`).
pub const SCHEMA_INSTRUCTIONS: &str = "Format your final answer according to the following OpenAPI schema: ";
/// Ends the schema instructions (CrewAI's wording, less the converter's "preserve the content").
pub const SCHEMA_INSTRUCTIONS_END: &str = "\n\nDo not include the OpenAPI schema in the final output. Ensure the final output does not include any code block markers like ```json or ```python.";
/// Starts the feedback on a rejected answer (CrewAI's `validation_error`).
pub const REVISION_MARKER: &str = "### Previous attempt failed validation: ";

/// The guardrail judge's role, goal and backstory (CrewAI's `LLMGuardrail` agent).
pub const GUARDRAIL_ROLE: &str = "Guardrail Agent";
pub const GUARDRAIL_GOAL: &str = "Validate the output of the task";
pub const GUARDRAIL_BACKSTORY: &str =
    "You are a expert at validating the output of a task. By providing effective feedback if the output is not valid.";
/// Starts the guardrail judge's task (CrewAI's wording); the offline model recognises it.
pub const GUARDRAIL_QUERY_START: &str = "Ensure the following task result complies with the given guardrail.";
/// What the judge answers (CrewAI's `LLMGuardrailResult`, as an expected output).
pub const GUARDRAIL_EXPECTED_OUTPUT: &str =
    "A JSON object {\"valid\": true or false, \"feedback\": what is wrong when not valid, else null}.";

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

/// `expected_output` followed by the instructions to answer as `schema` (pretty-printed JSON), as
/// CrewAI appends them to a task with `output_json`/`output_pydantic`.
pub fn expected_output_with_schema(expected_output: &str, schema: &serde_json::Value) -> String {
    let schema = serde_json::to_string_pretty(schema).unwrap_or_else(|_| schema.to_string());
    format!("{expected_output}\n{SCHEMA_INSTRUCTIONS}{schema}{SCHEMA_INSTRUCTIONS_END}")
}

/// The context for revising a rejected answer: the task's own `context` (when any), then CrewAI's
/// `validation_error` text with the reason (`error`) and the rejected answer (`previous`).
///
/// CrewAI replaces the context with the feedback; we keep the earlier tasks' outputs too, so the
/// revision has what the first answer had.
pub fn revision_context(context: &str, error: &str, previous: &str) -> String {
    let feedback = format!(
        "{REVISION_MARKER}{error}\n\n\n### Previous result:\n{previous}\n\n\nTry again, making sure to address the validation error."
    );
    if context.trim().is_empty() {
        feedback
    } else {
        format!("{context}{CONTEXT_SEPARATOR}{feedback}")
    }
}

/// The guardrail judge's task: does `output` comply with `guardrail` (CrewAI's `LLMGuardrail`
/// query).
pub fn guardrail_query(output: &str, guardrail: &str) -> String {
    format!(
        "{GUARDRAIL_QUERY_START}\n\nTask result:\n{output}\n\nGuardrail:\n{guardrail}\n\n\
         Your task:\n\
         - Confirm if the Task result complies with the guardrail.\n\
         - If not, provide clear feedback explaining what is wrong (e.g., by how much it violates the rule, or what specific part fails).\n\
         - Focus only on identifying issues — do not propose corrections.\n\
         - If the Task result complies with the guardrail, saying that is valid"
    )
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
    fn schema_instructions_revision_and_guardrail_texts() {
        let e = expected_output_with_schema("A report.", &serde_json::json!({"type": "object"}));
        assert!(
            e.starts_with("A report.\nFormat your final answer according to the following OpenAPI schema: {\n  \"type\": \"object\"\n}")
        );
        assert!(e.ends_with("```json or ```python."));
        let p = task_prompt("d", &e, "");
        assert_eq!(parse_task_prompt(&p).unwrap().expected_output, e);

        let r = revision_context("", "the output is not valid JSON", "oops");
        assert!(r.starts_with(REVISION_MARKER) && r.contains("### Previous result:\noops") && r.ends_with("address the validation error."));
        let r = revision_context("earlier work", "x", "y");
        assert!(r.starts_with("earlier work\n\n----------\n\n### Previous attempt failed validation: x"));

        let q = guardrail_query("The answer.", "must cite sources");
        assert!(q.starts_with(GUARDRAIL_QUERY_START));
        assert!(q.contains("Task result:\nThe answer.\n\nGuardrail:\nmust cite sources\n"));
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
